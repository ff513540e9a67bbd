// smctl inspection template publish, import, get, list: checklist templates ("N aspects, M
// key tasks"), published as a whole from a JSON file or imported from a CSV file whose rows
// are all checked before anything is sent (docs/smctl.md § Importing a checklist template).
#include <google/protobuf/util/json_util.h>

#include <iostream>

#include <nlohmann/json.hpp>

#include "tools/smctl/inspection_checklist.h"
#include "tools/smctl/inspection_client.h"
#include "tools/smctl/inspection_commands.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::InspectionService::Stub;
namespace {

struct PublishArgs {
  std::string file;
  std::string code;  // overrides the file's
  std::string name;
  std::string request_id;  // default: derived from the content
  bool dry_run = false;    // import only
};

// Publishes `req` (its request id derived from its content unless given) and says whether a
// new version was made or an earlier publication of the same content replayed.
int Publish(Context& ctx, v1::PublishTemplateRequest req, const std::string& request_id) {
  if (ctx.Token().empty()) return NeedToken(ctx, kInspectionService);
  InspectionClient c(ctx);
  req.set_request_id(request_id.empty() ? TemplateRequestId(req) : request_id);
  return c.Run(&Stub::PublishTemplate, req, [&](const v1::TemplateReply& r) {
    const Lang l = c.lang();
    const v1::ChecklistTemplate& t = r.template_();
    const std::string what = t.code() + T(l, " 第 ", " version ") + std::to_string(t.version()) + T(l, " 版", "") +
                             T(l, "（", " (") + std::to_string(t.aspects_size()) + T(l, " 个方面，", " aspects, ") +
                             std::to_string(t.items()) + T(l, " 项）", " items)");
    if (r.mutation().replayed()) {
      std::cout << T(l, "此检查模板此前已发布（内容相同），未产生新版本：",
                     "this template was published before with the same content; no new version: ")
                << what << "\n";
    } else {
      std::cout << T(l, "已发布检查模板：", "template published: ") << what << "\n";
    }
  });
}

int PublishFile(Context& ctx, const PublishArgs& a) {
  std::string text;
  if (!ReadFile(a.file, &text)) {
    return ctx.FailLocal(kExitInvalid, "无法读取文件 " + a.file, "cannot read file " + a.file);
  }
  v1::PublishTemplateRequest req;
  if (auto st = google::protobuf::util::JsonStringToMessage(text, &req); !st.ok()) {
    return ctx.FailLocal(kExitInvalid, a.file + " 不是检查模板（JSON：code、name、aspects）：" + st.ToString(),
                         a.file + " is not a checklist template (JSON: code, name, aspects): " + st.ToString());
  }
  if (!a.code.empty()) req.set_code(a.code);
  if (!a.name.empty()) req.set_name(a.name);
  return Publish(ctx, std::move(req), a.request_id);
}

// Nothing is sent when any row is bad: the report lists every problem.
int Import(Context& ctx, const PublishArgs& a) {
  const Lang l = ctx.lang();
  std::string text;
  if (!ReadFile(a.file, &text)) {
    return ctx.FailLocal(kExitInvalid, "无法读取文件 " + a.file, "cannot read file " + a.file);
  }
  const TemplateCsv csv = ReadTemplateCsv(text);
  if (!csv.problems.empty()) {
    if (ctx.json()) {
      nlohmann::json problems = nlohmann::json::array();
      for (const auto& p : csv.problems) {
        problems.push_back({{"line", p.line}, {"column", p.column}, {"problem", p.Text(l)}});
      }
      std::cout
          << nlohmann::json{{"file", a.file}, {"rows", csv.rows}, {"published", false}, {"problems", problems}}.dump(2)
          << "\n";
    } else {
      std::vector<std::vector<std::string>> rows;
      for (const auto& p : csv.problems) rows.push_back({std::to_string(p.line), p.column, p.Text(l)});
      PrintTable(std::cout, {T(l, "行号", "line"), T(l, "列", "column"), T(l, "问题", "problem")}, rows);
    }
    return ctx.FailLocal(
        kExitInvalid,
        a.file + " 有 " + std::to_string(csv.problems.size()) + " 处错误；未发布任何内容，请修改后重新导入",
        a.file + " has " + std::to_string(csv.problems.size()) +
            " problems; nothing was published: fix them and import again");
  }
  v1::PublishTemplateRequest req;
  req.set_code(a.code);
  req.set_name(a.name);
  for (const auto& aspect : csv.aspects) *req.add_aspects() = aspect;
  if (a.dry_run) {
    if (ctx.json()) {
      ctx.PrintJson(req);
    } else {
      std::cout << T(l, "试运行（未发布）：", "dry run (nothing published): ") << csv.aspects.size()
                << T(l, " 个方面，", " aspects, ") << csv.items << T(l, " 项，无错误\n", " items, no problems\n");
    }
    return kExitOk;
  }
  return Publish(ctx, std::move(req), a.request_id);
}

struct GetArgs {
  std::string code;
  int version = 0;  // 0: the latest
};

int Get(InspectionClient& c, const GetArgs& a) {
  v1::GetTemplateRequest req;
  req.set_code(a.code);
  req.set_version(a.version);
  return c.Run(&Stub::GetTemplate, req, [&](const v1::ChecklistTemplate& t) {
    const Lang l = c.lang();
    FieldTable f(l);
    f.Add("代码", "code", t.code());
    f.Add("版本", "version", std::to_string(t.version()));
    f.Add("名称", "name", t.name());
    f.Add("方面/检查项", "aspects/items", std::to_string(t.aspects_size()) + "/" + std::to_string(t.items()));
    f.Add("发布人", "published by", c.UserName(t.published_by()));
    f.AddIf("发布单位", "publishing unit", c.dir.UnitName(t.published_by_unit_id()));
    f.Add("发布时间", "published", BeijingTime(t.published_at()));
    f.Print(std::cout);
    std::vector<TreeLine> lines{{t.name(), 0}};
    for (const auto& aspect : t.aspects()) {
      lines.push_back({aspect.code() + " " + aspect.title(), 1});
      for (const auto& item : aspect.items()) lines.push_back({item.code() + " " + item.text(), 2});
    }
    std::cout << "\n";
    PrintTree(std::cout, lines);
  });
}

struct ListArgs {
  Paging paging;
};

int List(InspectionClient& c, const ListArgs& a) {
  const Lang l = c.lang();
  return c.List(
      &Stub::ListTemplates, v1::ListTemplatesRequest(), a.paging, &v1::ListTemplatesResponse::mutable_templates,
      T(l, "还没有检查模板\n", "no templates yet\n"), [&](const auto& templates) {
        std::vector<std::vector<std::string>> rows;
        for (const auto& t : templates) {
          rows.push_back({t.code(), std::to_string(t.version()), Truncate(t.name(), 30), std::to_string(t.items()),
                          c.UserName(t.published_by()), BeijingTime(t.published_at())});
        }
        PrintTable(std::cout,
                   {T(l, "代码", "code"), T(l, "最新版本", "latest version"), T(l, "名称", "name"),
                    T(l, "检查项", "items"), T(l, "发布人", "published by"), T(l, "发布时间", "published")},
                   rows);
      });
}

}  // namespace

void AddInspectionTemplateCommands(CLI::App* inspection, Commands& commands) {
  CLI::App* tpl = AddGroup(inspection, "template", "检查模板 checklist templates");
  {
    auto [cmd, a] =
        commands.Add(tpl, "publish", "从 JSON 文件发布模板 publish a template from a JSON file", PublishFile);
    cmd->add_option("FILE", a->file, "JSON 文件（code、name、aspects） JSON file")->required();
    cmd->add_option("--code", a->code, "模板代码（覆盖文件中的） template code (overrides the file's)");
    cmd->add_option("--name", a->name, "模板名称（覆盖文件中的） name (overrides the file's)");
    AddRequestIdOption(cmd, &a->request_id);
  }
  {
    auto [cmd, a] =
        commands.Add(tpl, "import", "从 CSV 导入并发布模板 import a template from CSV and publish it", Import);
    cmd->add_option("FILE", a->file, "CSV 文件（UTF-8） CSV file (UTF-8)")->required();
    cmd->add_option("--code", a->code, "模板代码（a-z、0-9、-） template code")->required();
    cmd->add_option("--name", a->name, "模板名称 template name")->required();
    cmd->add_flag("--dry-run", a->dry_run, "只检查，不发布 check only, publish nothing");
    AddRequestIdOption(cmd, &a->request_id);
  }
  {
    auto [cmd, a] = commands.Add(tpl, "get", "查看模板 show a template", Get);
    cmd->add_option("CODE", a->code, "模板代码 template code")->required();
    cmd->add_option("--version", a->version, "版本（默认最新） version (default: the latest)")
        ->check(CLI::PositiveNumber);
  }
  {
    auto [cmd, a] = commands.Add(tpl, "list", "列出模板（各自最新版本） list templates (their latest versions)", List);
    AddPagingOptions(cmd, &a->paging, 200);
  }
}

}  // namespace sm::smctl
