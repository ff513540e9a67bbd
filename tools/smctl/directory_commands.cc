#include "tools/smctl/directory_commands.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/auth.h"
#include "common/crypto.h"
#include "common/uuid.h"
#include "supervision/v1/directory.grpc.pb.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
namespace {

std::string KindLabel(Lang lang, v1::UnitKind k) {
  switch (k) {
    case v1::UNIT_KIND_BUREAU: return T(lang, "公安局", "bureau");
    case v1::UNIT_KIND_PARTY_COMMITTEE: return T(lang, "党委", "party committee");
    case v1::UNIT_KIND_DISCIPLINE_GROUP: return T(lang, "纪检监察组", "discipline group");
    case v1::UNIT_KIND_DISCIPLINE_COMMISSION: return T(lang, "纪委监委", "discipline commission");
    case v1::UNIT_KIND_ORGAN_DISCIPLINE_COMMITTEE: return T(lang, "机关纪委", "organ discipline committee");
    case v1::UNIT_KIND_POLITICAL_DEPARTMENT: return T(lang, "政治部", "political department");
    case v1::UNIT_KIND_INSPECTION_CORPS: return T(lang, "督察", "inspection");
    case v1::UNIT_KIND_AUDIT_OFFICE: return T(lang, "审计", "audit");
    case v1::UNIT_KIND_PETITIONS: return T(lang, "信访", "petitions");
    case v1::UNIT_KIND_LEGAL_AFFAIRS: return T(lang, "法制", "legal affairs");
    case v1::UNIT_KIND_BRANCH_BUREAU: return T(lang, "分局", "branch bureau");
    case v1::UNIT_KIND_POLICE_DIVISION: return T(lang, "警种部门", "police division");
    case v1::UNIT_KIND_STATION: return T(lang, "科所队", "station/team");
    default: return "?";
  }
}

std::string CategoryLabel(Lang lang, v1::PersonCategory c) {
  switch (c) {
    case v1::PERSON_CATEGORY_POLICE: return T(lang, "民警", "police");
    case v1::PERSON_CATEGORY_AUXILIARY: return T(lang, "辅警", "auxiliary");
    case v1::PERSON_CATEGORY_CIVILIAN: return T(lang, "公务员", "civilian");
    default: return "?";
  }
}

std::string PowerLabel(Lang lang, v1::Power p) {
  switch (p) {
    case v1::POWER_CASE_HANDLING: return T(lang, "办案权", "case handling");
    case v1::POWER_FINANCE: return T(lang, "财务权", "finance");
    case v1::POWER_PERSONNEL: return T(lang, "人事权", "personnel");
    case v1::POWER_PROCUREMENT: return T(lang, "采购权", "procurement");
    case v1::POWER_PROPERTY_CUSTODY: return T(lang, "财物保管权", "property custody");
    default: return "?";
  }
}

std::string DutyLabel(Lang lang, v1::LeaderDuty d) {
  switch (d) {
    case v1::LEADER_DUTY_PRINCIPAL: return T(lang, "主体责任", "principal");
    case v1::LEADER_DUTY_SUPERVISING: return T(lang, "监督责任", "supervising");
    default: return "";
  }
}

std::string Name(Lang lang, const v1::Unit& u) {
  return lang == Lang::kEn && !u.name_en().empty() ? u.name_en() : u.name();
}

using DirectoryClient = Client<v1::DirectoryService>;

// A unit given by code or id to its id (a failure as the service reports it).
int ResolveUnit(DirectoryClient& c, const std::string& key, std::string* id) {
  if (IsUuid(key)) {
    *id = key;
    return kExitOk;
  }
  v1::GetUnitRequest req;
  req.set_code(key);
  v1::Unit unit;
  if (grpc::Status s = c.Call(&v1::DirectoryService::Stub::GetUnit, req, &unit); !s.ok()) return c.Fail(s);
  *id = unit.id();
  return kExitOk;
}

// ---------------------------------------------------------------------------------------
// login, logout

struct LoginArgs {
  bool dev = false;
  std::string user;
  std::string unit;  // unit code or id; a code is resolved through the directory
  std::vector<std::string> roles;
  int clearance = 0;
  int ttl_hours = 8;
  std::string secret_file;  // a local identity provider's HS256 secret; default: the development secret
};

int Login(Context& ctx, const LoginArgs& args) {
  if (!args.dev) {
    return ctx.FailLocal(kExitUsage, "目前只支持开发令牌：smctl login --dev --user 用户 --unit 单位代码 --role 角色",
                         "only development tokens are supported: smctl login --dev --user U --unit CODE --role R");
  }
  std::string secret;
  if (!args.secret_file.empty()) {
    std::ifstream in(args.secret_file);
    if (!in || !std::getline(in, secret) || secret.empty()) {
      return ctx.FailLocal(kExitUsage, "无法读取密钥文件 " + args.secret_file,
                           "cannot read secret file " + args.secret_file);
    }
  }
  auth::MintRequest mint;
  mint.signing_key = secret.empty() ? std::string(auth::kDevelopmentSecret) : secret;
  mint.principal.user = args.user;
  mint.principal.roles = args.roles;
  mint.principal.clearance = args.clearance;
  mint.ttl = std::chrono::hours(args.ttl_hours);
  std::string unit_id = args.unit;
  if (!args.unit.empty() && !IsUuid(args.unit)) {
    // Resolve the unit code with a short-lived token of the same identity.
    auth::MintRequest probe = mint;
    probe.ttl = std::chrono::seconds(60);
    auto probe_token = auth::Mint(probe);
    if (!probe_token.ok())
      return ctx.FailLocal(kExitUsage, std::string(probe_token.status().message()),
                           std::string(probe_token.status().message()));
    Options o = ctx.options();
    o.token = *probe_token;
    Context probe_ctx(o);
    DirectoryClient c(probe_ctx);
    if (int rc = ResolveUnit(c, args.unit, &unit_id); rc != kExitOk) return rc;
  }
  mint.principal.unit = unit_id;
  auto token = auth::Mint(mint);
  if (!token.ok()) {
    return ctx.FailLocal(kExitUsage, "无法签发令牌：" + std::string(token.status().message()),
                         "cannot mint token: " + std::string(token.status().message()));
  }
  const std::string path = TokenPath();
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  {
    std::ofstream out(path, std::ios::trunc);
    if (!out) return ctx.FailLocal(kExitError, "无法写入 " + path, "cannot write " + path);
    out << *token << "\n";
  }
  chmod(path.c_str(), 0600);
  std::string roles;
  for (const auto& r : args.roles) roles += (roles.empty() ? "" : ",") + r;
  std::cout << T(ctx.lang(), "已登录（开发令牌）：", "logged in (development token): ") << args.user << " [" << roles
            << "] " << T(ctx.lang(), "令牌保存在 ", "token saved to ") << path << "\n";
  return kExitOk;
}

int Logout(Context& ctx, const NoArgs&) {
  std::error_code ec;
  std::filesystem::remove(TokenPath(), ec);
  std::cout << T(ctx.lang(), "已退出登录\n", "logged out\n");
  return kExitOk;
}

// ---------------------------------------------------------------------------------------
// directory import

struct ImportArgs {
  std::string file;
  bool dry_run = false;
  std::string request_id;  // default: from the file's hash
};

void PrintImport(Lang l, bool dry_run, const v1::ImportDirectoryResponse& resp) {
  std::cout << (dry_run                      ? T(l, "试导入（未写入）", "dry run (nothing written)")
                : resp.mutation().replayed() ? T(l, "此前已导入，结果如下", "already imported earlier; result")
                                             : T(l, "导入完成", "import done"))
            << T(l, "，目录版本 ", ", directory generation ") << resp.generation() << "\n";
  std::vector<std::vector<std::string>> rows;
  auto row = [&](const char* zh, const char* en, const v1::ImportCounts& c) {
    rows.push_back({T(l, zh, en), std::to_string(c.created()), std::to_string(c.updated()),
                    std::to_string(c.unchanged()), std::to_string(c.deactivated())});
  };
  row("单位", "units", resp.units());
  row("岗位", "posts", resp.posts());
  row("人员", "people", resp.people());
  PrintTable(std::cout,
             {T(l, "类别", "kind"), T(l, "新增", "created"), T(l, "更新", "updated"), T(l, "未变", "unchanged"),
              T(l, "停用", "deactivated")},
             rows);
}

int DirectoryImport(DirectoryClient& c, const ImportArgs& a) {
  std::string document;
  if (!ReadFile(a.file, &document)) {
    return c.ctx.FailLocal(kExitInvalid, "无法读取文件 " + a.file, "cannot read file " + a.file);
  }
  v1::ImportDirectoryRequest req;
  req.set_document(document);
  req.set_dry_run(a.dry_run);
  // The default key is the content's hash: importing the same file twice is one import.
  req.set_request_id(a.request_id.empty()
                         ? "smctl-import-" + crypto::Sha256Hex(document).substr(0, 32) + (a.dry_run ? "-dry" : "")
                         : a.request_id);
  return c.Run(&v1::DirectoryService::Stub::ImportDirectory, req,
               [&](const v1::ImportDirectoryResponse& r) { PrintImport(c.lang(), a.dry_run, r); });
}

// ---------------------------------------------------------------------------------------
// units

struct UnitsListArgs {
  bool tree = false;
  std::string root;  // code or id
  int depth = 0;
  bool all = false;  // include inactive
};

int UnitsList(DirectoryClient& c, const UnitsListArgs& a) {
  v1::ListUnitsRequest req;
  if (!a.root.empty()) {
    if (IsUuid(a.root))
      req.set_root_id(a.root);
    else
      req.set_root_code(a.root);
  }
  req.set_max_depth(a.depth);
  req.set_include_inactive(a.all);
  const Lang l = c.lang();
  return c.Run(&v1::DirectoryService::Stub::ListUnits, req, [&](const v1::ListUnitsResponse& resp) {
    const int base = resp.units_size() > 0 ? resp.units(0).depth() : 0;
    if (a.tree) {
      std::vector<TreeLine> lines;
      for (const auto& u : resp.units()) {
        std::string text = Name(l, u) + "  (" + KindLabel(l, u.kind()) + ", " + u.code() + ")";
        if (!u.active()) text += T(l, " [已停用]", " [inactive]");
        lines.push_back({text, u.depth() - base});
      }
      PrintTree(std::cout, lines);
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& u : resp.units()) {
      rows.push_back({u.code(), Name(l, u), KindLabel(l, u.kind()), std::to_string(u.depth()),
                      u.active() ? T(l, "启用", "active") : T(l, "停用", "inactive")});
    }
    PrintTable(std::cout,
               {T(l, "代码", "code"), T(l, "名称", "name"), T(l, "类型", "kind"), T(l, "层级", "depth"),
                T(l, "状态", "status")},
               rows);
  });
}

struct KeyArgs {
  std::string key;  // a code, badge number or id
};

int UnitsShow(DirectoryClient& c, const KeyArgs& a) {
  v1::GetUnitRequest req;
  if (IsUuid(a.key))
    req.set_id(a.key);
  else
    req.set_code(a.key);
  const Lang l = c.lang();
  return c.Run(&v1::DirectoryService::Stub::GetUnit, req, [&](const v1::Unit& u) {
    FieldTable t(l);
    t.Add("名称", "name", u.name());
    t.Add("英文名", "English name", u.name_en());
    t.Add("代码", "code", u.code());
    t.Add("类型", "kind", KindLabel(l, u.kind()));
    t.Add("ID", "ID", u.id());
    t.Add("上级", "parent", u.parent_id());
    t.Add("层级", "depth", std::to_string(u.depth()));
    t.Add("状态", "status", u.active() ? T(l, "启用", "active") : T(l, "停用", "inactive"));
    t.Print(std::cout);
  });
}

// ---------------------------------------------------------------------------------------
// people

struct PeopleSearchArgs {
  std::string unit;  // code or id
  bool subunits = false;
  std::string name;
  std::string badge;
  bool leaders = false;
  bool non_leaders = false;
  v1::PersonCategory category = v1::PERSON_CATEGORY_UNSPECIFIED;
  bool all = false;
  Paging paging;
};

const Choices kPersonCategories = {
    {v1::PERSON_CATEGORY_POLICE, "police", "民警", "police"},
    {v1::PERSON_CATEGORY_AUXILIARY, "auxiliary", "辅警", "auxiliary"},
    {v1::PERSON_CATEGORY_CIVILIAN, "civilian", "公务员", "civilian"},
};

int PeopleSearch(DirectoryClient& c, const PeopleSearchArgs& a) {
  v1::SearchPeopleRequest req;
  if (!a.unit.empty()) {
    std::string id;
    if (int rc = ResolveUnit(c, a.unit, &id); rc != kExitOk) return rc;
    req.set_unit_id(id);
  }
  req.set_include_subunits(a.subunits);
  req.set_name(a.name);
  req.set_badge_no(a.badge);
  if (a.leaders) req.set_leader(v1::SearchPeopleRequest::LEADER_FILTER_LEADERS);
  if (a.non_leaders) req.set_leader(v1::SearchPeopleRequest::LEADER_FILTER_NON_LEADERS);
  req.set_category(a.category);
  req.set_include_inactive(a.all);
  const Lang l = c.lang();
  return c.List(&v1::DirectoryService::Stub::SearchPeople, req, a.paging, &v1::SearchPeopleResponse::mutable_people, "",
                [&](const auto& people) {
                  std::vector<std::vector<std::string>> rows;
                  for (const auto& p : people) {
                    rows.push_back({p.badge_no(), p.name(), p.unit_name(), p.post_name(), p.grade(),
                                    p.leader() ? T(l, "是", "yes") : "", CategoryLabel(l, p.category())});
                  }
                  PrintTable(std::cout,
                             {T(l, "警号", "badge"), T(l, "姓名", "name"), T(l, "单位", "unit"), T(l, "岗位", "post"),
                              T(l, "职级", "grade"), T(l, "领导干部", "leader"), T(l, "类别", "category")},
                             rows);
                });
}

int PeopleShow(DirectoryClient& c, const KeyArgs& a) {
  v1::GetPersonRequest req;
  if (IsUuid(a.key))
    req.set_id(a.key);
  else
    req.set_badge_no(a.key);
  const Lang l = c.lang();
  return c.Run(&v1::DirectoryService::Stub::GetPerson, req, [&](const v1::Person& p) {
    FieldTable t(l);
    t.Add("姓名", "name", p.name());
    t.Add("警号", "badge", p.badge_no());
    t.Add("单位", "unit", p.unit_name());
    t.Add("岗位", "post", p.post_name());
    t.Add("职级", "grade", p.grade());
    t.Add("领导干部", "leader", YesNo(l, p.leader()));
    t.Add("类别", "category", CategoryLabel(l, p.category()));
    t.Add("ID", "ID", p.id());
    t.Add("状态", "status", p.active() ? T(l, "在职", "active") : T(l, "停用", "inactive"));
    t.Print(std::cout);
  });
}

// ---------------------------------------------------------------------------------------
// posts

struct PostsListArgs {
  bool all = false;
};

int PostsList(DirectoryClient& c, const PostsListArgs& a) {
  v1::ListPostsRequest req;
  req.set_include_inactive(a.all);
  const Lang l = c.lang();
  return c.Run(&v1::DirectoryService::Stub::ListPosts, req, [&](const v1::ListPostsResponse& resp) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : resp.posts()) {
      std::string powers;
      for (int i = 0; i < p.powers_size(); ++i) {
        powers += (powers.empty() ? "" : T(l, "、", ", ")) + PowerLabel(l, p.powers(i));
      }
      rows.push_back(
          {p.code(), l == Lang::kEn && !p.name_en().empty() ? p.name_en() : p.name(), powers, DutyLabel(l, p.duty())});
    }
    PrintTable(std::cout,
               {T(l, "代码", "code"), T(l, "岗位", "post"), T(l, "权力（廉政风险点）", "powers"),
                T(l, "领导责任", "leader duty")},
               rows);
  });
}

}  // namespace

void AddDirectoryCommands(CLI::App& app, Commands& commands) {
  {
    auto [cmd, a] = commands.Add(&app, "login", "登录（签发并保存令牌） log in: mint and store a token", Login);
    cmd->add_flag("--dev", a->dev, "签发开发令牌 mint a development token")->required();
    cmd->add_option("--user", a->user, "用户标识 user id")->required();
    cmd->add_option("--unit", a->unit, "所属单位代码或ID unit code or id");
    cmd->add_option("--role", a->roles,
                    "角色 role (repeat): admin, discipline, oversight, auditor, inspector, staff, dashboard, custodian")
        ->required();
    cmd->add_option("--clearance", a->clearance, "涉密等级 clearance 0-3")->check(CLI::Range(0, 3));
    cmd->add_option("--ttl-hours", a->ttl_hours, "有效期（小时） validity in hours")->check(CLI::Range(1, 720));
    cmd->add_option("--secret-file", a->secret_file,
                    "签名密钥文件（本地身份提供方，默认为开发密钥） HS256 secret file of a local identity provider "
                    "(default: the development secret) (SMCTL_SECRET_FILE)");
    if (const char* f = std::getenv("SMCTL_SECRET_FILE"); f && *f) a->secret_file = f;
  }
  commands.Add(&app, "logout", "退出登录 forget the stored token", Logout);

  CLI::App* dir = AddGroup(&app, "directory", "组织机构目录 directory");
  {
    auto [cmd, a] =
        commands.Add(dir, "import", "导入目录文件（YAML/JSON） import a directory document", DirectoryImport);
    cmd->add_option("FILE", a->file, "目录文件 directory file")->required();
    cmd->add_flag("--dry-run", a->dry_run, "只检查并报告变化，不写入 check and report only");
    cmd->add_option("--request-id", a->request_id, "幂等键 idempotency key (default: the file's hash)");
  }

  CLI::App* units = AddGroup(&app, "units", "单位 units");
  {
    auto [cmd, a] = commands.Add(units, "list", "列出单位 list units", UnitsList);
    cmd->add_flag("--tree", a->tree, "以树形显示 show as a tree");
    cmd->add_option("--root", a->root, "子树根（代码或ID） subtree root (code or id)");
    cmd->add_option("--depth", a->depth, "最大层级 levels below the root (0 = all)")->check(CLI::Range(0, 100));
    cmd->add_flag("--all", a->all, "包括已停用单位 include inactive units");
  }
  {
    auto [cmd, a] = commands.Add(units, "show", "查看单位 show a unit", UnitsShow);
    cmd->add_option("UNIT", a->key, "代码或ID code or id")->required();
  }

  CLI::App* people = AddGroup(&app, "people", "人员 people");
  {
    auto [cmd, a] = commands.Add(people, "search", "查询人员 search people", PeopleSearch);
    cmd->add_option("--unit", a->unit, "单位代码或ID unit code or id");
    cmd->add_flag("--subunits", a->subunits, "包括下级单位 include the unit's subtree");
    cmd->add_option("--name", a->name, "姓名包含 name contains");
    cmd->add_option("--badge", a->badge, "警号前缀 badge number prefix");
    auto* leaders = cmd->add_flag("--leaders", a->leaders, "只看领导干部 leaders only");
    cmd->add_flag("--non-leaders", a->non_leaders, "只看非领导干部 non-leaders only")->excludes(leaders);
    AddChoiceOption(cmd, "--category", &a->category, kPersonCategories, "类别 police|auxiliary|civilian");
    cmd->add_flag("--all", a->all, "包括已停用人员 include inactive people");
    AddPagingOptions(cmd, &a->paging, 500);
  }
  {
    auto [cmd, a] = commands.Add(people, "show", "查看人员 show a person", PeopleShow);
    cmd->add_option("PERSON", a->key, "警号或ID badge number or id")->required();
  }

  CLI::App* posts = AddGroup(&app, "posts", "岗位 posts");
  {
    auto [cmd, a] = commands.Add(posts, "list", "列出岗位及其权力 list posts and their powers", PostsList);
    cmd->add_flag("--all", a->all, "包括已停用岗位 include inactive posts");
  }
}

}  // namespace sm::smctl
