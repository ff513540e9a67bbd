// smctl: the command-line client of Supervision Mesh (CLI11 wiring only; the commands are
// in *_commands.cc). Speaks Chinese by default; --lang en or SMCTL_LANG=en for English.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include "tools/smctl/audit_commands.h"
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
  opts.audit_addr = Env("SMCTL_AUDIT_ADDR", "127.0.0.1:7103");
  opts.token = Env("SMCTL_TOKEN", "");
  opts.lang = Env("SMCTL_LANG", "zh");
  opts.ca_file = Env("SMCTL_CA_FILE", "");
  opts.cert_file = Env("SMCTL_CERT_FILE", "");
  opts.key_file = Env("SMCTL_KEY_FILE", "");
  opts.tls_server_name = Env("SMCTL_TLS_SERVER_NAME", "");
  app.add_option("--addr", opts.addr, "服务地址 service address host:port (SMCTL_ADDR)");
  app.add_option("--clue-addr", opts.clue_addr, "线索服务地址 clue service address host:port (SMCTL_CLUE_ADDR)");
  app.add_option("--audit-addr", opts.audit_addr, "审计服务地址 audit service address host:port (SMCTL_AUDIT_ADDR)");
  app.add_option("--token", opts.token, "访问令牌 bearer token (SMCTL_TOKEN)");
  app.add_option("-o,--output", opts.output, "输出格式 output: table|json")->check(CLI::IsMember({"table", "json"}));
  app.add_option("--lang", opts.lang, "语言 language: zh|en (SMCTL_LANG)")->check(CLI::IsMember({"zh", "en"}));
  app.add_option("--timeout-ms", opts.timeout_ms, "每次调用的超时 per-call deadline (ms)")->check(CLI::Range(100, 600000));
  app.add_option("--ca-file", opts.ca_file, "TLS: 服务证书的 CA CA of the services' certificates (SMCTL_CA_FILE)");
  app.add_option("--cert-file", opts.cert_file, "双向TLS客户端证书 mutual TLS client certificate (SMCTL_CERT_FILE)");
  app.add_option("--key-file", opts.key_file, "客户端证书私钥 its private key (SMCTL_KEY_FILE)");
  app.add_option("--tls-server-name", opts.tls_server_name,
                 "要验证的服务器名 server name to verify, when not the address's host (SMCTL_TLS_SERVER_NAME)");

  std::function<int(Context&)> run;

  LoginArgs login;
  auto* login_cmd = app.add_subcommand("login", "登录（签发并保存令牌） log in: mint and store a token");
  login_cmd->add_flag("--dev", login.dev, "签发开发令牌 mint a development token")->required();
  login_cmd->add_option("--user", login.user, "用户标识 user id")->required();
  login_cmd->add_option("--unit", login.unit, "所属单位代码或ID unit code or id");
  login_cmd->add_option("--role", login.roles, "角色 role (repeat): admin, discipline, oversight, auditor, inspector, staff, dashboard, custodian")->required();
  login_cmd->add_option("--clearance", login.clearance, "涉密等级 clearance 0-3")->check(CLI::Range(0, 3));
  login_cmd->add_option("--ttl-hours", login.ttl_hours, "有效期（小时） validity in hours")->check(CLI::Range(1, 720));
  login.secret_file = Env("SMCTL_SECRET_FILE", "");
  login_cmd->add_option("--secret-file", login.secret_file,
                        "签名密钥文件（本地身份提供方，默认为开发密钥） HS256 secret file of a local identity provider "
                        "(default: the development secret) (SMCTL_SECRET_FILE)");
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
  // `<service> verify-all` and `<service> checkpoints export [--after ID]` (oversight).
  int64_t checkpoints_after = 0;
  auto add_chain_commands = [&](CLI::App* service, int (*verify_all)(Context&), int (*export_fn)(Context&, int64_t)) {
    service->add_subcommand("verify-all", "校验全部哈希链与检查点 verify every chain against the signed checkpoint (oversight)")
        ->callback([&run, verify_all] { run = [verify_all](Context& c) { return verify_all(c); }; });
    auto* checkpoints = service->add_subcommand("checkpoints", "哈希链检查点 chain checkpoints (oversight)");
    checkpoints->require_subcommand(1);
    auto* exp = checkpoints->add_subcommand("export", "导出检查点（每行一个JSON） export checkpoints as JSON lines");
    exp->add_option("--after", checkpoints_after, "从该编号之后 after this checkpoint id (default 0: all)");
    exp->callback([&run, &checkpoints_after, export_fn] {
      run = [&checkpoints_after, export_fn](Context& c) { return export_fn(c, checkpoints_after); };
    });
  };

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

  // The two-person rule for the reporter: request, custodians decide, the requester looks once.
  ClueRevealArgs rv;
  auto reveal_cmd = [&](const char* name, const char* help, const char* target, const char* target_help,
                        int (*fn)(Context&, const ClueRevealArgs&)) {
    auto* cmd = clue->add_subcommand(name, help);
    cmd->add_option(target, rv.target, target_help)->required();
    cmd->add_option("--request-id", rv.request_id, "幂等键 idempotency key (default: a new UUID)");
    cmd->callback([&, fn] { run = [&, fn](Context& c) { return fn(c, rv); }; });
    return cmd;
  };
  const char* kRequestHelp = "查看申请编号 reveal request id";
  reveal_cmd("reveal-request", "申请查看举报人（需审批人批准） ask to see the reporter (custodians decide)", "CLUE",
             "线索ID或编号 clue id or number", ClueRevealRequest)
      ->add_option("--reason", rv.reason, "申请理由（必填） reason (required)");
  reveal_cmd("reveal-approve", "批准查看举报人的申请（审批人） approve a reveal request (custodian)", "REQUEST",
             kRequestHelp, ClueRevealApprove)
      ->add_option("--reason", rv.reason, "意见 comment");
  reveal_cmd("reveal-refuse", "拒绝查看举报人的申请（审批人） refuse a reveal request (custodian)", "REQUEST",
             kRequestHelp, ClueRevealRefuse)
      ->add_option("--reason", rv.reason, "拒绝理由（必填） reason (required)");
  reveal_cmd("reveal", "查看举报人（申请人，批准后一次，记入历史） see the reporter: the requester, once, after approval",
             "REQUEST", kRequestHelp, ClueReveal);
  auto* rshow = clue->add_subcommand("reveal-show", "查看申请状态 show a reveal request");
  rshow->add_option("REQUEST", rv.target, kRequestHelp)->required();
  rshow->callback([&] { run = [&](Context& c) { return ClueRevealShow(c, rv); }; });
  auto* rlist_cmd = clue->add_subcommand(
      "reveals", "查看举报人的申请：待我审批的（审批人），或 --mine 我的申请 reveal requests: my queue, or --mine");
  rlist_cmd->add_flag("--mine", rv.mine, "我提出的申请 requests I made");
  rlist_cmd->add_option("--clue", rv.clue, "只看该线索（ID或编号） only this clue (id or number)");
  rlist_cmd->add_option("--limit", rv.limit, "每页条数 page size")->check(CLI::Range(1, 200));
  rlist_cmd->add_option("--page-token", rv.page_token, "下一页令牌 next page token");
  rlist_cmd->add_flag("--all-pages", rv.all_pages, "取回全部页 fetch every page");
  rlist_cmd->callback([&] { run = [&](Context& c) { return ClueReveals(c, rv); }; });

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
  add_chain_commands(clue, ClueVerifyAll, ClueCheckpointsExport);
  auto* cstats = clue->add_subcommand("stats", "线索统计 clue statistics");
  cstats->add_option("--unit", stats_unit, "范围：该单位及下级承办的线索 scope: clues held by this unit or below");
  cstats->callback([&] { run = [&](Context& c) { return ClueStats(c, stats_unit); }; });

  // ---- audit: 审计 ------------------------------------------------------------------------
  auto* audit = app.add_subcommand("audit", "审计 audit: engagements, findings, rectifications");
  audit->require_subcommand(1);
  auto audit_choices = [](AuditChoice k) { return CLI::IsMember(AuditChoices(k)); };

  auto* eng = audit->add_subcommand("engagement", "审计项目 engagements");
  eng->require_subcommand(1);
  EngagementCreateArgs ec;
  auto* ecreate = eng->add_subcommand("create", "立项 create an engagement");
  ecreate->add_option("--kind", ec.kind, "审计类型 kind")->required()->check(audit_choices(AuditChoice::kKind));
  ecreate->add_option("--title", ec.title, "项目名称 title");
  ecreate->add_option("--audit-unit", ec.audit_unit, "审计单位（代码或ID，须为本人单位） audit unit (code or id)")->required();
  ecreate->add_option("--audited-unit", ec.audited_unit, "被审计单位（代码或ID） audited unit (code or id)")->required();
  ecreate->add_option("--audited-person", ec.audited_person,
                      "被审计人（警号或ID；经济责任审计必填） audited person (badge or id; departure audits)");
  ecreate->add_option("--from", ec.from, "审计期间起 period from (YYYY-MM-DD)")->required();
  ecreate->add_option("--to", ec.to, "审计期间止 period to (YYYY-MM-DD)")->required();
  ecreate->add_option("--it-stage", ec.it_stage, "信息化项目环节 IT stage (it-project audits)")
      ->check(audit_choices(AuditChoice::kItStage));
  ecreate->add_option("--request-id", ec.request_id, "幂等键 idempotency key (default: a new UUID)");
  ecreate->callback([&] { run = [&](Context& c) { return AuditEngagementCreate(c, ec); }; });

  EngagementAdvanceArgs ea;
  auto* eadvance = eng->add_subcommand("advance", "推进项目状态 move an engagement to its next state");
  eadvance->add_option("ENG", ea.engagement, "项目ID或编号 engagement id or number")->required();
  eadvance->add_option("--to", ea.to, "目标状态 next state")->required()->check(audit_choices(AuditChoice::kAdvanceTo));
  eadvance->add_option("--request-id", ea.request_id, "幂等键 idempotency key (default: a new UUID)");
  eadvance->add_option("--version", ea.version, "预期版本（默认先读取） expected version (default: read it first)")
      ->check(CLI::PositiveNumber);
  eadvance->callback([&] { run = [&](Context& c) { return AuditEngagementAdvance(c, ea); }; });

  std::string eng_key;
  auto* eshow = eng->add_subcommand("show", "查看审计项目 show an engagement");
  eshow->add_option("ENG", eng_key, "项目ID或编号 engagement id or number")->required();
  eshow->callback([&] { run = [&](Context& c) { return AuditEngagementShow(c, eng_key); }; });

  EngagementListArgs el;
  auto* elist = eng->add_subcommand("list", "列出审计项目 list engagements");
  elist->add_option("--audited-unit", el.audited_unit, "被审计单位（代码或ID） audited unit (code or id)");
  elist->add_option("--kind", el.kind, "审计类型 kind")->check(audit_choices(AuditChoice::kKind));
  elist->add_option("--limit", el.limit, "每页条数 page size")->check(CLI::Range(1, 500));
  elist->add_option("--page-token", el.page_token, "下一页令牌 next page token");
  elist->add_flag("--all-pages", el.all_pages, "取回全部页 fetch every page");
  elist->callback([&] { run = [&](Context& c) { return AuditEngagementList(c, el); }; });

  auto* finding = audit->add_subcommand("finding", "审计发现（问题） findings");
  finding->require_subcommand(1);
  FindingAddArgs fa;
  auto* fadd = finding->add_subcommand("add", "登记审计发现 add a finding");
  fadd->add_option("--engagement", fa.engagement, "审计项目（ID或编号） engagement (id or number)")->required();
  fadd->add_option("--title", fa.title, "问题标题 title");
  fadd->add_option("--description", fa.description, "问题描述 description");
  fadd->add_option("--category", fa.category, "问题类别 category")->required()->check(audit_choices(AuditChoice::kCategory));
  fadd->add_option("--amount", fa.amount, "涉及金额（元，最多两位小数） amount in yuan (at most 2 decimals)")->required();
  fadd->add_option("--severity", fa.severity, "严重程度 severity")->required()->check(audit_choices(AuditChoice::kSeverity));
  fadd->add_option("--unit", fa.unit, "责任单位（代码或ID） responsible unit (code or id)")->required();
  fadd->add_option("--person", fa.person, "责任人（警号或ID） responsible person (badge or id)");
  fadd->add_option("--evidence", fa.evidence, "证据索引（可重复） evidence reference (repeat)")->allow_extra_args(false);
  fadd->add_option("--request-id", fa.request_id, "幂等键 idempotency key (default: a new UUID)");
  fadd->callback([&] { run = [&](Context& c) { return AuditFindingAdd(c, fa); }; });

  std::string finding_key;
  auto finding_read = [&](const char* name, const char* help, int (*fn)(Context&, const std::string&)) {
    auto* cmd = finding->add_subcommand(name, help);
    cmd->add_option("FINDING", finding_key, "问题ID或编号 finding id or number (SJ-2026-0001-02)")->required();
    cmd->callback([&, fn] { run = [&, fn](Context& c) { return fn(c, finding_key); }; });
  };
  finding_read("show", "查看审计发现（含移送线索的办理结果） show a finding and its referral", AuditFindingShow);
  finding_read("history", "问题的历史 the finding's history", AuditFindingHistory);
  finding_read("verify", "校验历史哈希链 verify the history's hash chain (exit 1 when broken)", AuditFindingVerify);

  FindingListArgs fl;
  auto* flist = finding->add_subcommand("list", "列出审计发现 list findings");
  flist->add_option("--engagement", fl.engagement, "审计项目（ID或编号） engagement (id or number)");
  flist->add_option("--unit", fl.unit, "责任单位（代码或ID） responsible unit (code or id)");
  flist->add_option("--category", fl.category, "问题类别 category")->check(audit_choices(AuditChoice::kCategory));
  flist->add_flag("--referred", fl.referred, "只看已移送的 referred only");
  flist->add_option("--limit", fl.limit, "每页条数 page size")->check(CLI::Range(1, 500));
  flist->add_option("--page-token", fl.page_token, "下一页令牌 next page token");
  flist->add_flag("--all-pages", fl.all_pages, "取回全部页 fetch every page");
  flist->callback([&] { run = [&](Context& c) { return AuditFindingList(c, fl); }; });

  FindingReferArgs fr;
  auto* frefer = finding->add_subcommand("refer", "移送纪检监察部门（形成问题线索） refer to a discipline unit as a clue");
  frefer->add_option("FINDING", fr.finding, "问题ID或编号 finding id or number")->required();
  frefer->add_option("--to", fr.to, "接收单位（代码或ID） discipline unit (code or id)")->required();
  frefer->add_option("--category", fr.categories, "线索类别（可重复，或逗号分隔；默认廉洁纪律） clue category (repeat)")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->check(CLI::IsMember(ClueChoices(ClueChoice::kCategory)));
  frefer->add_option("--summary", fr.summary, "线索摘要（默认：审计移送：问题标题） clue summary");
  frefer->add_option("--request-id", fr.request_id, "幂等键 idempotency key (default: a new UUID)");
  frefer->add_option("--version", fr.version, "预期版本（默认先读取） expected version (default: read it first)")
      ->check(CLI::PositiveNumber);
  frefer->callback([&] { run = [&](Context& c) { return AuditFindingRefer(c, fr); }; });

  FindingRetryArgs fretry;
  auto* fretry_cmd = finding->add_subcommand("retry-referral", "移送失败后重新移送 send a failed referral again");
  fretry_cmd->add_option("FINDING", fretry.finding, "问题ID或编号 finding id or number")->required();
  fretry_cmd->add_option("--reason", fretry.reason, "已纠正的原因（必填） what was fixed (required)")->required();
  fretry_cmd->add_option("--request-id", fretry.request_id, "幂等键 idempotency key (default: a new UUID)");
  fretry_cmd->add_option("--version", fretry.version, "预期版本（默认先读取） expected version (default: read it first)")
      ->check(CLI::PositiveNumber);
  fretry_cmd->callback([&] { run = [&](Context& c) { return AuditFindingRetryReferral(c, fretry); }; });

  auto* rect = audit->add_subcommand("rectification", "整改 rectifications");
  rect->require_subcommand(1);
  RectAddArgs ra;
  auto* radd = rect->add_subcommand("add", "下达整改 set a rectification for a finding");
  radd->add_option("FINDING", ra.finding, "问题ID或编号 finding id or number")->required();
  radd->add_option("--measure", ra.measure, "整改措施 measure");
  radd->add_option("--owner", ra.owner, "整改责任单位（默认问题的责任单位） owner unit (default: the finding's unit)");
  radd->add_option("--days", ra.days, "整改期限（工作日） deadline in working days")->check(CLI::Range(1, 365));
  radd->add_option("--request-id", ra.request_id, "幂等键 idempotency key (default: a new UUID)");
  radd->callback([&] { run = [&](Context& c) { return AuditRectAdd(c, ra); }; });

  RectStepArgs rs;
  auto on_rect = [&](const char* name, const char* help, bool versioned, int (*fn)(Context&, const RectStepArgs&)) {
    auto* cmd = rect->add_subcommand(name, help);
    cmd->add_option("RECT", rs.rect, "整改ID（或至少前 8 位） rectification id (or its first 8+ characters)")->required();
    cmd->add_option("--request-id", rs.request_id, "幂等键 idempotency key (default: a new UUID)");
    if (versioned) {
      cmd->add_option("--version", rs.version, "预期版本（默认先读取） expected version (default: read it first)")
          ->check(CLI::PositiveNumber);
    }
    cmd->callback([&, fn] { run = [&, fn](Context& c) { return fn(c, rs); }; });
    return cmd;
  };
  auto* rprogress = on_rect("progress", "记录整改进展（责任单位） record progress (owner unit)", false, AuditRectProgress);
  rprogress->add_option("--note", rs.note, "进展情况（必填） progress note (required)");
  rprogress->add_option("--evidence", rs.evidence, "证据索引（可重复） evidence reference (repeat)")->allow_extra_args(false);
  on_rect("submit", "提交整改结果待核验（责任单位） submit for review (owner unit)", true, AuditRectSubmit)
      ->add_option("--summary", rs.summary, "整改情况说明（必填） summary (required)");
  auto* rreview = on_rect("review", "核验：销号或退回（审计单位） sign off or send back (audit unit)", true, AuditRectReview);
  auto* approve = rreview->add_flag("--approve", rs.approve, "核验通过，销号 sign off");
  rreview->add_flag("--reject", rs.reject, "退回重新整改 send back to the owner")->excludes(approve);
  rreview->add_option("--reason", rs.reason, "理由（退回时必填） reason (required to reject)");
  on_rect("reopen", "回头看：重新打开已销号的整改（审计单位） reopen a signed-off rectification", true, AuditRectReopen)
      ->add_option("--reason", rs.reason, "理由（必填） reason (required)");

  RectListArgs rl;
  auto* rlist = rect->add_subcommand("list", "列出整改 list rectifications");
  rlist->add_option("--finding", rl.finding, "问题ID或编号 finding id or number");
  rlist->add_option("--owner", rl.owner, "整改责任单位（代码或ID） owner unit (code or id)");
  rlist->add_option("--state", rl.state, "状态 state")->check(audit_choices(AuditChoice::kRectState));
  rlist->add_flag("--overdue", rl.overdue, "只看逾期 overdue only");
  rlist->callback([&] { run = [&](Context& c) { return AuditRectList(c, rl); }; });

  add_chain_commands(audit, AuditVerifyAll, AuditCheckpointsExport);

  std::string audit_stats_unit;
  auto* astats = audit->add_subcommand("stats", "审计统计 audit statistics");
  astats->add_option("--unit", audit_stats_unit, "范围：该单位及下级单位的问题 scope: findings of this unit or below");
  astats->callback([&] { run = [&](Context& c) { return AuditStats(c, audit_stats_unit); }; });

  ImportFindingsArgs imf;
  auto* aimport = audit->add_subcommand("import-findings", "从 CSV 台账导入审计发现 import findings from a CSV ledger");
  aimport->add_option("FILE", imf.file, "CSV 文件（UTF-8） CSV file (UTF-8)")->required();
  aimport->add_option("--engagement", imf.engagement, "审计项目（ID或编号） engagement (id or number)")->required();
  aimport->add_flag("--dry-run", imf.dry_run, "只检查，不写入 check only, write nothing");
  aimport->callback([&] { run = [&](Context& c) { return AuditImportFindings(c, imf); }; });

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
