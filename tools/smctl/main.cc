// smctl: the command-line client of Supervision Mesh (CLI11 wiring only; the commands are
// in *_commands.cc). Speaks Chinese by default; --lang en or SMCTL_LANG=en for English.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include "tools/smctl/clue_commands.h"
#include "tools/smctl/directory_commands.h"

namespace {

std::string Env(const char* name, const std::string& def) {
  const char* v = std::getenv(name);
  return v && *v ? v : def;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sm::smctl;
  CLI::App app{"smctl — Supervision Mesh 命令行工具 (command-line client)"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand too
  Options opts;
  opts.addr = Env("SMCTL_ADDR", "127.0.0.1:7101");
  opts.clue_addr = Env("SMCTL_CLUE_ADDR", "127.0.0.1:7102");
  opts.token = Env("SMCTL_TOKEN", "");
  opts.lang = Env("SMCTL_LANG", "zh");
  app.add_option("--addr", opts.addr, "服务地址 service address host:port (SMCTL_ADDR)");
  app.add_option("--clue-addr", opts.clue_addr, "线索服务地址 clue service address host:port (SMCTL_CLUE_ADDR)");
  app.add_option("--token", opts.token, "访问令牌 bearer token (SMCTL_TOKEN)");
  app.add_option("-o,--output", opts.output, "输出格式 output: table|json")->check(CLI::IsMember({"table", "json"}));
  app.add_option("--lang", opts.lang, "语言 language: zh|en (SMCTL_LANG)")->check(CLI::IsMember({"zh", "en"}));
  app.add_option("--timeout-ms", opts.timeout_ms, "每次调用的超时 per-call deadline (ms)")->check(CLI::Range(100, 600000));
  app.add_option("--ca-file", opts.ca_file, "TLS: 服务证书的 CA CA of the services' certificates");

  std::function<int(Context&)> run;

  LoginArgs login;
  auto* login_cmd = app.add_subcommand("login", "登录（签发并保存令牌） log in: mint and store a token");
  login_cmd->add_flag("--dev", login.dev, "签发开发令牌 mint a development token")->required();
  login_cmd->add_option("--user", login.user, "用户标识 user id")->required();
  login_cmd->add_option("--unit", login.unit, "所属单位代码或ID unit code or id");
  login_cmd->add_option("--role", login.roles, "角色 role (repeat): admin, discipline, oversight, auditor, inspector, staff, dashboard")->required();
  login_cmd->add_option("--clearance", login.clearance, "涉密等级 clearance 0-3")->check(CLI::Range(0, 3));
  login_cmd->add_option("--ttl-hours", login.ttl_hours, "有效期（小时） validity in hours")->check(CLI::Range(1, 720));
  login_cmd->callback([&] { run = [&](Context& c) { return Login(c, login); }; });

  app.add_subcommand("logout", "退出登录 forget the stored token")->callback([&] {
    run = [](Context& c) { return Logout(c); };
  });

  auto* dir = app.add_subcommand("directory", "组织机构目录 directory");
  dir->require_subcommand(1);
  std::string import_file, import_request_id;
  bool import_dry = false;
  auto* imp = dir->add_subcommand("import", "导入目录文件（YAML/JSON） import a directory document");
  imp->add_option("FILE", import_file, "目录文件 directory file")->required();
  imp->add_flag("--dry-run", import_dry, "只检查并报告变化，不写入 check and report only");
  imp->add_option("--request-id", import_request_id, "幂等键 idempotency key (default: the file's hash)");
  imp->callback([&] { run = [&](Context& c) { return DirectoryImport(c, import_file, import_dry, import_request_id); }; });

  auto* units = app.add_subcommand("units", "单位 units");
  units->require_subcommand(1);
  UnitsListArgs ul;
  auto* ulist = units->add_subcommand("list", "列出单位 list units");
  ulist->add_flag("--tree", ul.tree, "以树形显示 show as a tree");
  ulist->add_option("--root", ul.root, "子树根（代码或ID） subtree root (code or id)");
  ulist->add_option("--depth", ul.depth, "最大层级 levels below the root (0 = all)")->check(CLI::Range(0, 100));
  ulist->add_flag("--all", ul.all, "包括已停用单位 include inactive units");
  ulist->callback([&] { run = [&](Context& c) { return UnitsList(c, ul); }; });
  std::string unit_key;
  auto* ushow = units->add_subcommand("show", "查看单位 show a unit");
  ushow->add_option("UNIT", unit_key, "代码或ID code or id")->required();
  ushow->callback([&] { run = [&](Context& c) { return UnitsShow(c, unit_key); }; });

  auto* people = app.add_subcommand("people", "人员 people");
  people->require_subcommand(1);
  PeopleSearchArgs ps;
  auto* psearch = people->add_subcommand("search", "查询人员 search people");
  psearch->add_option("--unit", ps.unit, "单位代码或ID unit code or id");
  psearch->add_flag("--subunits", ps.subunits, "包括下级单位 include the unit's subtree");
  psearch->add_option("--name", ps.name, "姓名包含 name contains");
  psearch->add_option("--badge", ps.badge, "警号前缀 badge number prefix");
  auto* leaders = psearch->add_flag("--leaders", ps.leaders, "只看领导干部 leaders only");
  psearch->add_flag("--non-leaders", ps.non_leaders, "只看非领导干部 non-leaders only")->excludes(leaders);
  psearch->add_option("--category", ps.category, "类别 police|auxiliary|civilian")
      ->check(CLI::IsMember({"police", "auxiliary", "civilian"}));
  psearch->add_flag("--all", ps.all, "包括已停用人员 include inactive people");
  psearch->add_option("--limit", ps.limit, "每页条数 page size")->check(CLI::Range(1, 500));
  psearch->add_option("--page-token", ps.page_token, "下一页令牌 next page token");
  psearch->add_flag("--all-pages", ps.all_pages, "取回全部页 fetch every page");
  psearch->callback([&] { run = [&](Context& c) { return PeopleSearch(c, ps); }; });
  std::string person_key;
  auto* pshow = people->add_subcommand("show", "查看人员 show a person");
  pshow->add_option("PERSON", person_key, "警号或ID badge number or id")->required();
  pshow->callback([&] { run = [&](Context& c) { return PeopleShow(c, person_key); }; });

  auto* posts = app.add_subcommand("posts", "岗位 posts");
  posts->require_subcommand(1);
  bool posts_all = false;
  auto* plist = posts->add_subcommand("list", "列出岗位及其权力 list posts and their powers");
  plist->add_flag("--all", posts_all, "包括已停用岗位 include inactive posts");
  plist->callback([&] { run = [&](Context& c) { return PostsList(c, posts_all); }; });

  // ---- clue: 问题线索 --------------------------------------------------------------------
  auto* clue = app.add_subcommand("clue", "问题线索 clues");
  clue->require_subcommand(1);
  auto choices = [](ClueChoice k) { return CLI::IsMember(ClueChoices(k)); };

  ClueRegisterArgs reg;
  auto* creg = clue->add_subcommand("register", "登记线索 register a clue");
  creg->add_option("--unit", reg.unit, "登记单位（代码或ID，须为本人单位） registering unit (code or id)")->required();
  creg->add_option("--source", reg.source, "来源 source")->required()->check(choices(ClueChoice::kSource));
  creg->add_option("--channel", reg.channel, "受理方式 channel")->required()->check(choices(ClueChoice::kChannel));
  creg->add_option("--subject-person", reg.subject_people, "被反映人（警号或ID，可重复） subject person (badge or id; repeat)")
      ->allow_extra_args(false);
  creg->add_option("--subject-unit", reg.subject_units, "被反映单位（代码或ID，可重复） subject unit (code or id; repeat)")
      ->allow_extra_args(false);
  creg->add_option("--category", reg.categories, "线索类别（可重复，或逗号分隔） category (repeat or comma-separated)")
      ->required()
      ->delimiter(',')
      ->allow_extra_args(false)
      ->check(choices(ClueChoice::kCategory));
  creg->add_option("--summary", reg.summary, "摘要 summary");
  auto* details = creg->add_option("--details", reg.details, "详情 details");
  creg->add_option("--details-file", reg.details_file, "从文件读取详情 details from a file")->excludes(details);
  auto* anonymous = creg->add_flag("--anonymous", reg.anonymous, "匿名举报 anonymous reporter");
  creg->add_option("--reporter-name", reg.reporter_name, "举报人姓名 reporter's name")->excludes(anonymous);
  creg->add_option("--reporter-contact", reg.reporter_contact, "举报人联系方式 reporter's contact")->excludes(anonymous);
  creg->add_option("--severity", reg.severity, "严重程度 severity")->check(choices(ClueChoice::kSeverity));
  creg->add_option("--source-system", reg.source_system, "移送来源系统 referring system (with --source-ref)");
  creg->add_option("--source-ref", reg.source_ref, "来源系统中的编号 reference in that system");
  creg->add_option("--request-id", reg.request_id, "幂等键 idempotency key (default: a new UUID)");
  creg->callback([&] { run = [&](Context& c) { return ClueRegister(c, reg); }; });

  // Commands on one clue share one argument block; only the chosen one reads it.
  ClueStepArgs step;
  auto on_clue = [&](const char* name, const char* help, bool versioned, int (*fn)(Context&, const ClueStepArgs&)) {
    auto* cmd = clue->add_subcommand(name, help);
    cmd->add_option("CLUE", step.clue, "线索ID或编号（ID更快） clue id or number (an id is faster)")->required();
    if (versioned) {
      cmd->add_option("--request-id", step.request_id, "幂等键 idempotency key (default: a new UUID)");
      cmd->add_option("--version", step.version, "预期版本（默认先读取） expected version (default: read it first)")
          ->check(CLI::PositiveNumber);
    }
    cmd->callback([&, fn] { run = [&, fn](Context& c) { return fn(c, step); }; });
    return cmd;
  };
  auto* ctransfer = on_clue("transfer", "移送线索 transfer (offer) a clue to another unit", true, ClueTransfer);
  ctransfer->add_option("--to", step.to, "接收单位（代码或ID） receiving unit (code or id)")->required();
  ctransfer->add_option("--reason", step.reason, "移送理由 reason");
  on_clue("accept", "接收移送的线索 accept a clue offered to your unit", true, ClueAccept);
  on_clue("return", "退回移送的线索 return an offered clue", true, ClueReturn)
      ->add_option("--reason", step.reason, "退回理由（必填） reason (required)");
  on_clue("assign", "指定承办人 assign a handler", true, ClueAssign)
      ->add_option("--handler", step.handler, "承办人（警号或ID） handler (badge or id)")
      ->required();
  auto* cdispose = on_clue("dispose", "处置线索（四类处置方式） dispose of a clue", true, ClueDispose);
  cdispose->add_option("--method", step.method, "处置方式 method: talk|verify|shelve|close")
      ->required()
      ->check(choices(ClueChoice::kMethod));
  cdispose->add_option("--reason", step.reason, "理由（暂存待查、予以了结时必填） reason (required for shelve, close)");
  auto* cextend = on_clue("extend", "延长办理时限 extend the current deadline", true, ClueExtend);
  cextend->add_option("--days", step.days, "延长的工作日数 extra working days (1-60)")->required()->check(CLI::Range(1, 60));
  cextend->add_option("--reason", step.reason, "理由（必填） reason (required)");
  auto* cconclude = on_clue("conclude", "办结线索（四种形态） conclude a clue", true, ClueConclude);
  cconclude->add_option("--form", step.form, "形态 form: 1|2|3|4")->required()->check(CLI::Range(1, 4));
  cconclude->add_flag("--case-filed", step.case_filed, "已立案审查调查 a case was filed");
  cconclude->add_option("--sanction", step.sanctions, "处分或处理（可重复） sanction (repeat)")->allow_extra_args(false);
  cconclude->add_option("--feedback", step.feedback, "反馈给移送单位的结果（必填） feedback to the sending unit (required)");
  auto* cmerge = on_clue("merge", "并案：将其他线索并入主线索 merge clues into PRIMARY", true, ClueMerge);
  cmerge->add_option("--with", step.merge_with, "并入的线索（ID或编号，可重复） clue to merge in (repeat)")
      ->required()
      ->allow_extra_args(false);
  cmerge->add_option("--reason", step.reason, "理由 reason");
  auto* cnote = on_clue("note", "添加办理记录 add a progress note", false, ClueNote);
  cnote->add_option("--text", step.text, "记录内容（必填） note text (required)");
  cnote->add_option("--attach", step.attachments, "附件文件（只上传元数据，可重复） attachment file (metadata only; repeat)")
      ->allow_extra_args(false);
  cnote->add_option("--request-id", step.request_id, "幂等键 idempotency key (default: a new UUID)");
  on_clue("intervene", "同步介入 mark the commission's intervention", true, ClueIntervene)
      ->add_option("--note", step.note, "说明 note");
  on_clue("reveal", "查看举报人（记入历史） reveal the reporter (recorded)", false, ClueReveal)
      ->add_option("--reason", step.reason, "查看理由（必填） reason (required)");

  std::string clue_key;
  auto read_cmd = [&](const char* name, const char* help, int (*fn)(Context&, const std::string&)) {
    auto* cmd = clue->add_subcommand(name, help);
    cmd->add_option("CLUE", clue_key, "线索ID或编号（ID更快） clue id or number (an id is faster)")->required();
    cmd->callback([&, fn] { run = [&, fn](Context& c) { return fn(c, clue_key); }; });
  };
  read_cmd("show", "查看线索 show a clue", ClueShow);
  read_cmd("history", "线索办理历史 the clue's history", ClueHistory);
  read_cmd("verify", "校验历史哈希链 verify the history's hash chain (exit 1 when broken)", ClueVerify);
  read_cmd("duplicates", "可并案的线索（同一被反映人） merge candidates (same subject person)", ClueDuplicates);

  ClueListArgs cl;
  auto* clist = clue->add_subcommand("list", "查询线索 list clues");
  clist->add_option("--holding", cl.holding, "承办单位（代码或ID） holding unit (code or id)");
  clist->add_option("--origin", cl.origin, "来源单位（代码或ID） registering unit (code or id)");
  clist->add_option("--state", cl.state, "状态 state")->check(choices(ClueChoice::kState));
  clist->add_option("--category", cl.category, "线索类别 category")->check(choices(ClueChoice::kCategory));
  clist->add_option("--subject", cl.subject, "被反映人（警号或ID） subject person (badge or id)");
  clist->add_flag("--overdue", cl.overdue, "只看逾期 overdue only");
  clist->add_option("--text", cl.text, "摘要包含 summary contains");
  clist->add_option("--limit", cl.limit, "每页条数 page size")->check(CLI::Range(1, 500));
  clist->add_option("--page-token", cl.page_token, "下一页令牌 next page token");
  clist->add_flag("--all-pages", cl.all_pages, "取回全部页 fetch every page");
  clist->callback([&] { run = [&](Context& c) { return ClueList(c, cl); }; });

  std::string stats_unit;
  auto* cstats = clue->add_subcommand("stats", "线索统计 clue statistics");
  cstats->add_option("--unit", stats_unit, "范围：该单位及下级承办的线索 scope: clues held by this unit or below");
  cstats->callback([&] { run = [&](Context& c) { return ClueStats(c, stats_unit); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  Context ctx(opts);
  return run ? run(ctx) : kExitUsage;
}
