// smctl: the command-line client of Supervision Mesh (CLI11 wiring only; the commands are
// in *_commands.cc). Speaks Chinese by default; --lang en or SMCTL_LANG=en for English.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

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
  opts.token = Env("SMCTL_TOKEN", "");
  opts.lang = Env("SMCTL_LANG", "zh");
  app.add_option("--addr", opts.addr, "服务地址 service address host:port (SMCTL_ADDR)");
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
