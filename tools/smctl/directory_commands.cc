#include "tools/smctl/directory_commands.h"

#include <sys/stat.h>

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

std::string Name(Lang lang, const v1::Unit& u) {
  return lang == Lang::kEn && !u.name_en().empty() ? u.name_en() : u.name();
}

int NeedToken(Context& ctx) {
  return ctx.FailLocal(kExitAuth, "未登录：请先运行 smctl login --dev，或用 --token / SMCTL_TOKEN 提供令牌。",
                       "not logged in: run smctl login --dev, or pass --token / SMCTL_TOKEN.");
}

// Resolves a unit given by code or id to its id.
int ResolveUnit(Context& ctx, v1::DirectoryService::Stub& stub, const std::string& key, std::string* id) {
  if (IsUuid(key)) {
    *id = key;
    return kExitOk;
  }
  grpc::ClientContext cc;
  ctx.Prepare(&cc);
  v1::GetUnitRequest req;
  req.set_code(key);
  v1::Unit unit;
  grpc::Status s = stub.GetUnit(&cc, req, &unit);
  if (!s.ok()) return ctx.Fail(s);
  *id = unit.id();
  return kExitOk;
}

}  // namespace

int Login(Context& ctx, const LoginArgs& args) {
  if (!args.dev) {
    return ctx.FailLocal(kExitUsage,
                         "目前只支持开发令牌：smctl login --dev --user 用户 --unit 单位代码 --role 角色",
                         "only development tokens are supported: smctl login --dev --user U --unit CODE --role R");
  }
  std::string secret = args.secret;
  if (!args.secret_file.empty()) {
    std::ifstream in(args.secret_file);
    if (!in || !std::getline(in, secret) || secret.empty()) {
      return ctx.FailLocal(kExitUsage, "无法读取密钥文件 " + args.secret_file, "cannot read secret file " + args.secret_file);
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
    if (!probe_token.ok()) return ctx.FailLocal(kExitUsage, std::string(probe_token.status().message()),
                                                std::string(probe_token.status().message()));
    Options o = ctx.options();
    o.token = *probe_token;
    Context probe_ctx(o);
    auto stub = v1::DirectoryService::NewStub(probe_ctx.Channel());
    int rc = ResolveUnit(probe_ctx, *stub, args.unit, &unit_id);
    if (rc != kExitOk) return rc;
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
  std::cout << T(ctx.lang(), "已登录（开发令牌）：", "logged in (development token): ") << args.user << " ["
            << roles << "] " << T(ctx.lang(), "令牌保存在 ", "token saved to ") << path << "\n";
  return kExitOk;
}

int Logout(Context& ctx) {
  std::error_code ec;
  std::filesystem::remove(TokenPath(), ec);
  std::cout << T(ctx.lang(), "已退出登录\n", "logged out\n");
  return kExitOk;
}

int DirectoryImport(Context& ctx, const std::string& file, bool dry_run, std::string request_id) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  std::ifstream in(file, std::ios::binary);
  if (!in) return ctx.FailLocal(kExitInvalid, "无法读取文件 " + file, "cannot read file " + file);
  std::stringstream buf;
  buf << in.rdbuf();
  v1::ImportDirectoryRequest req;
  req.set_document(buf.str());
  req.set_dry_run(dry_run);
  // The default key is the content's hash: importing the same file twice is one import.
  req.set_request_id(request_id.empty() ? "smctl-import-" + crypto::Sha256Hex(buf.str()).substr(0, 32) +
                                              (dry_run ? "-dry" : "")
                                        : request_id);
  auto stub = v1::DirectoryService::NewStub(ctx.Channel());
  grpc::ClientContext cc;
  ctx.Prepare(&cc);
  v1::ImportDirectoryResponse resp;
  grpc::Status s = stub->ImportDirectory(&cc, req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
    return kExitOk;
  }
  Lang l = ctx.lang();
  std::cout << (dry_run ? T(l, "试导入（未写入）", "dry run (nothing written)")
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
  PrintTable(std::cout, {T(l, "类别", "kind"), T(l, "新增", "created"), T(l, "更新", "updated"),
                         T(l, "未变", "unchanged"), T(l, "停用", "deactivated")}, rows);
  return kExitOk;
}

int UnitsList(Context& ctx, const UnitsListArgs& args) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  auto stub = v1::DirectoryService::NewStub(ctx.Channel());
  v1::ListUnitsRequest req;
  if (!args.root.empty()) {
    if (IsUuid(args.root)) req.set_root_id(args.root);
    else req.set_root_code(args.root);
  }
  req.set_max_depth(args.depth);
  req.set_include_inactive(args.all);
  grpc::ClientContext cc;
  ctx.Prepare(&cc);
  v1::ListUnitsResponse resp;
  grpc::Status s = stub->ListUnits(&cc, req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
    return kExitOk;
  }
  Lang l = ctx.lang();
  const int base = resp.units_size() > 0 ? resp.units(0).depth() : 0;
  if (args.tree) {
    std::vector<TreeLine> lines;
    for (const auto& u : resp.units()) {
      std::string text = Name(l, u) + "  (" + KindLabel(l, u.kind()) + ", " + u.code() + ")";
      if (!u.active()) text += T(l, " [已停用]", " [inactive]");
      lines.push_back({text, u.depth() - base});
    }
    PrintTree(std::cout, lines);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& u : resp.units()) {
    rows.push_back({u.code(), Name(l, u), KindLabel(l, u.kind()), std::to_string(u.depth()),
                    u.active() ? T(l, "启用", "active") : T(l, "停用", "inactive")});
  }
  PrintTable(std::cout, {T(l, "代码", "code"), T(l, "名称", "name"), T(l, "类型", "kind"),
                         T(l, "层级", "depth"), T(l, "状态", "status")}, rows);
  return kExitOk;
}

int UnitsShow(Context& ctx, const std::string& key) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  auto stub = v1::DirectoryService::NewStub(ctx.Channel());
  v1::GetUnitRequest req;
  if (IsUuid(key)) req.set_id(key);
  else req.set_code(key);
  grpc::ClientContext cc;
  ctx.Prepare(&cc);
  v1::Unit u;
  grpc::Status s = stub->GetUnit(&cc, req, &u);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(u);
    return kExitOk;
  }
  Lang l = ctx.lang();
  PrintTable(std::cout, {T(l, "字段", "field"), T(l, "值", "value")},
             {{T(l, "名称", "name"), u.name()},
              {T(l, "英文名", "English name"), u.name_en()},
              {T(l, "代码", "code"), u.code()},
              {T(l, "类型", "kind"), KindLabel(l, u.kind())},
              {"ID", u.id()},
              {T(l, "上级", "parent"), u.parent_id()},
              {T(l, "层级", "depth"), std::to_string(u.depth())},
              {T(l, "状态", "status"), u.active() ? T(l, "启用", "active") : T(l, "停用", "inactive")}});
  return kExitOk;
}

int PeopleSearch(Context& ctx, const PeopleSearchArgs& args) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  auto stub = v1::DirectoryService::NewStub(ctx.Channel());
  v1::SearchPeopleRequest req;
  if (!args.unit.empty()) {
    std::string id;
    int rc = ResolveUnit(ctx, *stub, args.unit, &id);
    if (rc != kExitOk) return rc;
    req.set_unit_id(id);
  }
  req.set_include_subunits(args.subunits);
  req.set_name(args.name);
  req.set_badge_no(args.badge);
  if (args.leaders) req.set_leader(v1::SearchPeopleRequest::LEADER_FILTER_LEADERS);
  if (args.non_leaders) req.set_leader(v1::SearchPeopleRequest::LEADER_FILTER_NON_LEADERS);
  if (args.category == "police") req.set_category(v1::PERSON_CATEGORY_POLICE);
  if (args.category == "auxiliary") req.set_category(v1::PERSON_CATEGORY_AUXILIARY);
  if (args.category == "civilian") req.set_category(v1::PERSON_CATEGORY_CIVILIAN);
  req.set_include_inactive(args.all);
  req.set_page_size(args.limit);
  req.set_page_token(args.page_token);
  v1::SearchPeopleResponse all;
  while (true) {
    grpc::ClientContext cc;
    ctx.Prepare(&cc);
    v1::SearchPeopleResponse resp;
    grpc::Status s = stub->SearchPeople(&cc, req, &resp);
    if (!s.ok()) return ctx.Fail(s);
    for (auto& p : *resp.mutable_people()) *all.add_people() = std::move(p);
    all.set_next_page_token(resp.next_page_token());
    if (!args.all_pages || resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  if (ctx.json()) {
    ctx.PrintJson(all);
    return kExitOk;
  }
  Lang l = ctx.lang();
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : all.people()) {
    rows.push_back({p.badge_no(), p.name(), p.unit_name(), p.post_name(), p.grade(),
                    p.leader() ? T(l, "是", "yes") : "", CategoryLabel(l, p.category())});
  }
  PrintTable(std::cout, {T(l, "警号", "badge"), T(l, "姓名", "name"), T(l, "单位", "unit"),
                         T(l, "岗位", "post"), T(l, "职级", "grade"), T(l, "领导干部", "leader"),
                         T(l, "类别", "category")}, rows);
  if (!all.next_page_token().empty()) {
    std::cout << T(l, "还有更多结果：--page-token ", "more results: --page-token ") << all.next_page_token() << "\n";
  }
  return kExitOk;
}

int PeopleShow(Context& ctx, const std::string& key) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  auto stub = v1::DirectoryService::NewStub(ctx.Channel());
  v1::GetPersonRequest req;
  if (IsUuid(key)) req.set_id(key);
  else req.set_badge_no(key);
  grpc::ClientContext cc;
  ctx.Prepare(&cc);
  v1::Person p;
  grpc::Status s = stub->GetPerson(&cc, req, &p);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(p);
    return kExitOk;
  }
  Lang l = ctx.lang();
  PrintTable(std::cout, {T(l, "字段", "field"), T(l, "值", "value")},
             {{T(l, "姓名", "name"), p.name()},
              {T(l, "警号", "badge"), p.badge_no()},
              {T(l, "单位", "unit"), p.unit_name()},
              {T(l, "岗位", "post"), p.post_name()},
              {T(l, "职级", "grade"), p.grade()},
              {T(l, "领导干部", "leader"), p.leader() ? T(l, "是", "yes") : T(l, "否", "no")},
              {T(l, "类别", "category"), CategoryLabel(l, p.category())},
              {"ID", p.id()},
              {T(l, "状态", "status"), p.active() ? T(l, "在职", "active") : T(l, "停用", "inactive")}});
  return kExitOk;
}

int PostsList(Context& ctx, bool all) {
  if (ctx.Token().empty()) return NeedToken(ctx);
  auto stub = v1::DirectoryService::NewStub(ctx.Channel());
  v1::ListPostsRequest req;
  req.set_include_inactive(all);
  grpc::ClientContext cc;
  ctx.Prepare(&cc);
  v1::ListPostsResponse resp;
  grpc::Status s = stub->ListPosts(&cc, req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
    return kExitOk;
  }
  Lang l = ctx.lang();
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : resp.posts()) {
    std::string powers;
    for (int i = 0; i < p.powers_size(); ++i) {
      powers += (powers.empty() ? "" : T(l, "、", ", ")) + PowerLabel(l, p.powers(i));
    }
    rows.push_back({p.code(), l == Lang::kEn && !p.name_en().empty() ? p.name_en() : p.name(), powers});
  }
  PrintTable(std::cout, {T(l, "代码", "code"), T(l, "岗位", "post"), T(l, "权力（廉政风险点）", "powers")}, rows);
  return kExitOk;
}

}  // namespace sm::smctl
