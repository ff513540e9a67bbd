// smctl clue register, and the steps of a clue's life: transfer, accept, return, assign,
// dispose, extend, conclude, merge, note, intervene (docs/smctl.md § Clues).
#include <filesystem>
#include <iostream>
#include <map>

#include "common/crypto.h"
#include "tools/smctl/clue_client.h"
#include "tools/smctl/clue_commands.h"
#include "tools/smctl/clue_labels.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;
using Stub = v1::ClueService::Stub;
namespace {

std::string MediaType(const std::string& file) {
  std::string ext = std::filesystem::path(file).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::map<std::string, std::string> kTypes = {
      {".pdf", "application/pdf"},
      {".ofd", "application/ofd"},
      {".doc", "application/msword"},
      {".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {".xls", "application/vnd.ms-excel"},
      {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
      {".ppt", "application/vnd.ms-powerpoint"},
      {".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
      {".wps", "application/vnd.ms-works"},
      {".txt", "text/plain"},
      {".md", "text/markdown"},
      {".csv", "text/csv"},
      {".html", "text/html"},
      {".htm", "text/html"},
      {".json", "application/json"},
      {".xml", "application/xml"},
      {".yaml", "application/yaml"},
      {".yml", "application/yaml"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".png", "image/png"},
      {".gif", "image/gif"},
      {".bmp", "image/bmp"},
      {".tif", "image/tiff"},
      {".tiff", "image/tiff"},
      {".webp", "image/webp"},
      {".heic", "image/heic"},
      {".mp3", "audio/mpeg"},
      {".wav", "audio/wav"},
      {".amr", "audio/amr"},
      {".m4a", "audio/mp4"},
      {".mp4", "video/mp4"},
      {".mov", "video/quicktime"},
      {".avi", "video/x-msvideo"},
      {".zip", "application/zip"},
      {".rar", "application/vnd.rar"},
      {".7z", "application/x-7z-compressed"},
  };
  auto it = kTypes.find(ext);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

// ---------------------------------------------------------------------------------------
// register

struct RegisterArgs {
  std::string unit;  // registering unit: code or id
  v1::ClueSource source{};
  v1::ReceiptChannel channel{};
  std::vector<std::string> subject_people;  // badge numbers or ids
  std::vector<std::string> subject_units;   // codes or ids
  std::vector<v1::ClueCategory> categories;
  std::string summary;
  std::string details;
  std::string details_file;
  std::string reporter_name;
  std::string reporter_contact;
  bool anonymous = false;
  v1::Severity severity{};
  std::string source_system;
  std::string source_ref;
  std::string request_id;
};

int Register(ClueClient& c, const RegisterArgs& a) {
  const Lang l = c.lang();
  v1::RegisterClueRequest req;
  req.set_request_id(RequestIdOr(a.request_id));
  std::string id;
  if (int rc = c.dir.UnitId(a.unit, &id); rc != kExitOk) return rc;
  req.set_origin_unit_id(id);
  req.set_source(a.source);
  req.set_channel(a.channel);
  for (const auto& p : a.subject_people) {
    if (int rc = c.dir.PersonId(p, &id); rc != kExitOk) return rc;
    req.add_subjects()->set_person_id(id);
  }
  for (const auto& u : a.subject_units) {
    if (int rc = c.dir.UnitId(u, &id); rc != kExitOk) return rc;
    req.add_subjects()->set_unit_id(id);
  }
  for (auto cat : a.categories) req.add_categories(cat);
  req.set_summary(a.summary);
  if (!a.details_file.empty()) {
    std::string details;
    if (!ReadFile(a.details_file, &details)) {
      return c.ctx.FailLocal(kExitInvalid, "无法读取文件 " + a.details_file, "cannot read file " + a.details_file);
    }
    req.set_details(details);
  } else {
    req.set_details(a.details);
  }
  if (a.anonymous) {
    req.mutable_reporter()->set_anonymous(true);
  } else if (!a.reporter_name.empty() || !a.reporter_contact.empty()) {
    req.mutable_reporter()->set_name(a.reporter_name);
    req.mutable_reporter()->set_contact(a.reporter_contact);
  }
  req.set_severity(a.severity);
  req.set_source_system(a.source_system);
  req.set_source_ref(a.source_ref);
  return c.Run(&Stub::RegisterClue, req, [&](const v1::ClueReply& reply) {
    const v1::Clue& cl = reply.clue();
    std::cout << (reply.mutation().replayed() ? T(l, "此线索此前已登记：", "already registered earlier: ")
                                              : T(l, "已登记线索：", "clue registered: "))
              << cl.number() << "\n";
    std::string deadline = BeijingTime(cl.deadline_at());
    if (!deadline.empty() && !cl.deadline_stage().empty()) deadline += " (" + StageLabel(l, cl.deadline_stage()) + ")";
    FieldTable t(l);
    t.Add("编号", "number", cl.number());
    t.Add("ID", "ID", cl.id());
    t.Add("状态", "state", Label(l, ClueStates(), cl.state()));
    t.Add("办理时限", "deadline", deadline);
    t.Print(std::cout);
  });
}

// ---------------------------------------------------------------------------------------
// Steps on one clue. Each command reads the fields it needs.

struct StepArgs {
  std::string clue;        // UUID or number (XS-2026-000123)
  std::string request_id;  // default: a fresh UUID
  int64_t version = 0;     // expected version; 0 = read the clue first
  std::string to;          // transfer: unit code or id
  std::string reason;
  std::string handler;  // assign: badge number or id
  v1::DispositionMethod method{};
  int days = 0;  // extend
  int form = 0;  // conclude: 1-4
  bool case_filed = false;
  std::vector<std::string> sanctions;
  std::string feedback;
  std::vector<std::string> merge_with;   // merge: clue ids or numbers
  std::string text;                      // note
  std::vector<std::string> attachments;  // note: files
  std::string note;                      // intervene
};

// Fills the request id, clue id and expected version every versioned step request has.
template <typename Req>
int Prepare(ClueClient& c, const StepArgs& a, Req* req) {
  std::string id;
  int64_t version = 0;
  if (int rc = c.Target(a.clue, a.version, &id, &version); rc != kExitOk) return rc;
  req->set_request_id(RequestIdOr(a.request_id));
  req->set_clue_id(id);
  req->set_expected_version(version);
  return kExitOk;
}

int Transfer(ClueClient& c, const StepArgs& a) {
  v1::TransferClueRequest req;
  std::string to;
  if (int rc = c.dir.UnitId(a.to, &to); rc != kExitOk) return rc;
  if (int rc = Prepare(c, a, &req); rc != kExitOk) return rc;
  req.set_to_unit_id(to);
  req.set_reason(a.reason);
  return c.Run(&Stub::TransferClue, req, [&](const v1::ClueReply& r) {
    c.PrintDone(r, "已移送", "transferred");
    std::cout << T(c.lang(), "移送至：", "offered to: ") << c.dir.UnitName(r.clue().offered_to_unit_id()) << "\n";
  });
}

int Accept(ClueClient& c, const StepArgs& a) {
  v1::AcceptClueRequest req;
  if (int rc = Prepare(c, a, &req); rc != kExitOk) return rc;
  return c.Step(&Stub::AcceptClue, req, "已接收", "accepted");
}

int Return(ClueClient& c, const StepArgs& a) {
  v1::ReturnClueRequest req;
  if (int rc = Prepare(c, a, &req); rc != kExitOk) return rc;
  req.set_reason(a.reason);
  return c.Step(&Stub::ReturnClue, req, "已退回", "returned");
}

int Assign(ClueClient& c, const StepArgs& a) {
  v1::AssignHandlerRequest req;
  std::string handler;
  if (int rc = c.dir.PersonId(a.handler, &handler); rc != kExitOk) return rc;
  if (int rc = Prepare(c, a, &req); rc != kExitOk) return rc;
  req.set_handler_person_id(handler);
  return c.Step(&Stub::AssignHandler, req, "已指定承办人", "handler assigned");
}

int Dispose(ClueClient& c, const StepArgs& a) {
  v1::DisposeClueRequest req;
  if (int rc = Prepare(c, a, &req); rc != kExitOk) return rc;
  req.set_method(a.method);
  req.set_reason(a.reason);
  return c.Step(&Stub::DisposeClue, req, "已处置", "disposed");
}

int Extend(ClueClient& c, const StepArgs& a) {
  v1::ExtendDeadlineRequest req;
  if (int rc = Prepare(c, a, &req); rc != kExitOk) return rc;
  req.set_extra_working_days(a.days);
  req.set_reason(a.reason);
  return c.Step(&Stub::ExtendDeadline, req, "已延长时限", "deadline extended");
}

int Conclude(ClueClient& c, const StepArgs& a) {
  v1::ConcludeClueRequest req;
  if (int rc = Prepare(c, a, &req); rc != kExitOk) return rc;
  req.set_form(static_cast<v1::SupervisionForm>(a.form));
  req.set_case_filed(a.case_filed);
  for (const auto& x : a.sanctions) req.add_sanctions(x);
  req.set_feedback(a.feedback);
  return c.Run(&Stub::ConcludeClue, req, [&](const v1::ClueReply& r) {
    const bool filed = r.clue().state() == v1::CLUE_STATE_CASE_FILED;
    c.PrintDone(r, filed ? "已立案" : "已办结", filed ? "case filed" : "concluded");
  });
}

int Merge(ClueClient& c, const StepArgs& a) {
  v1::MergeCluesRequest req;
  std::string id;
  int64_t version = 0;
  if (int rc = c.Target(a.clue, a.version, &id, &version); rc != kExitOk) return rc;
  for (const auto& other : a.merge_with) {
    v1::Clue cl;
    if (int rc = c.Find(other, false, &cl); rc != kExitOk) return rc;
    req.add_merged_clue_ids(cl.id());
  }
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_primary_clue_id(id);
  req.set_expected_version(version);
  req.set_reason(a.reason);
  return c.Step(&Stub::MergeClues, req, "已并案", "merged");
}

int Note(ClueClient& c, const StepArgs& a) {
  v1::AddNoteRequest req;
  for (const auto& file : a.attachments) {
    std::string content;
    if (!ReadFile(file, &content)) {
      return c.ctx.FailLocal(kExitInvalid, "无法读取附件 " + file, "cannot read attachment " + file);
    }
    auto* att = req.add_attachments();
    att->set_name(std::filesystem::path(file).filename().string());
    att->set_sha256(crypto::Sha256Hex(content));
    att->set_size_bytes(static_cast<int64_t>(content.size()));
    att->set_media_type(MediaType(file));
  }
  v1::Clue cl;
  if (int rc = c.Find(a.clue, false, &cl); rc != kExitOk) return rc;
  req.set_request_id(RequestIdOr(a.request_id));
  req.set_clue_id(cl.id());
  req.set_text(a.text);
  return c.Step(&Stub::AddNote, req, "已添加办理记录", "note added");
}

int Intervene(ClueClient& c, const StepArgs& a) {
  v1::MarkInterventionRequest req;
  if (int rc = Prepare(c, a, &req); rc != kExitOk) return rc;
  req.set_note(a.note);
  return c.Step(&Stub::MarkIntervention, req, "已标记同步介入", "intervention recorded");
}

void AddRegister(CLI::App* clue, Commands& commands) {
  auto [cmd, a] = commands.Add(clue, "register", "登记线索 register a clue", Register);
  cmd->add_option("--unit", a->unit, "登记单位（代码或ID，须为本人单位） registering unit (code or id)")->required();
  AddChoiceOption(cmd, "--source", &a->source, ClueSources(), "来源 source")->required();
  AddChoiceOption(cmd, "--channel", &a->channel, ClueChannels(), "受理方式 channel")->required();
  cmd->add_option("--subject-person", a->subject_people,
                  "被反映人（警号或ID，可重复） subject person (badge or id; repeat)")
      ->allow_extra_args(false);
  cmd->add_option("--subject-unit", a->subject_units,
                  "被反映单位（代码或ID，可重复） subject unit (code or id; repeat)")
      ->allow_extra_args(false);
  AddChoicesOption(cmd, "--category", &a->categories, ClueCategories(),
                   "线索类别（可重复，或逗号分隔） category (repeat or comma-separated)")
      ->required()
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_option("--summary", a->summary, "摘要 summary");
  auto* details = cmd->add_option("--details", a->details, "详情 details");
  cmd->add_option("--details-file", a->details_file, "从文件读取详情 details from a file")->excludes(details);
  auto* anonymous = cmd->add_flag("--anonymous", a->anonymous, "匿名举报 anonymous reporter");
  cmd->add_option("--reporter-name", a->reporter_name, "举报人姓名 reporter's name")->excludes(anonymous);
  cmd->add_option("--reporter-contact", a->reporter_contact, "举报人联系方式 reporter's contact")->excludes(anonymous);
  AddChoiceOption(cmd, "--severity", &a->severity, Severities(), "严重程度 severity");
  cmd->add_option("--source-system", a->source_system, "移送来源系统 referring system (with --source-ref)");
  cmd->add_option("--source-ref", a->source_ref, "来源系统中的编号 reference in that system");
  AddRequestIdOption(cmd, &a->request_id);
}

void AddSteps(CLI::App* clue, Commands& commands) {
  // A step on CLUE; `versioned` adds --request-id and --version (note adds its own request id).
  auto step = [&](const char* name, const char* help, bool versioned, int (*fn)(ClueClient&, const StepArgs&)) {
    auto added = commands.Add(clue, name, help, fn);
    added.cmd->add_option("CLUE", added.args->clue, "线索ID或编号（ID更快） clue id or number (an id is faster)")
        ->required();
    if (versioned) {
      AddRequestIdOption(added.cmd, &added.args->request_id);
      AddVersionOption(added.cmd, &added.args->version);
    }
    return added;
  };
  {
    auto [cmd, a] = step("transfer", "移送线索 transfer (offer) a clue to another unit", true, Transfer);
    cmd->add_option("--to", a->to, "接收单位（代码或ID） receiving unit (code or id)")->required();
    cmd->add_option("--reason", a->reason, "移送理由 reason");
  }
  step("accept", "接收移送的线索 accept a clue offered to your unit", true, Accept);
  {
    auto [cmd, a] = step("return", "退回移送的线索 return an offered clue", true, Return);
    cmd->add_option("--reason", a->reason, "退回理由（必填） reason (required)");
  }
  {
    auto [cmd, a] = step("assign", "指定承办人 assign a handler", true, Assign);
    cmd->add_option("--handler", a->handler, "承办人（警号或ID） handler (badge or id)")->required();
  }
  {
    auto [cmd, a] = step("dispose", "处置线索（四类处置方式） dispose of a clue", true, Dispose);
    AddChoiceOption(cmd, "--method", &a->method, DispositionMethods(), "处置方式 method: talk|verify|shelve|close")
        ->required();
    cmd->add_option("--reason", a->reason, "理由（暂存待查、予以了结时必填） reason (required for shelve, close)");
  }
  {
    auto [cmd, a] = step("extend", "延长办理时限 extend the current deadline", true, Extend);
    cmd->add_option("--days", a->days, "延长的工作日数 extra working days (1-60)")
        ->required()
        ->check(CLI::Range(1, 60));
    cmd->add_option("--reason", a->reason, "理由（必填） reason (required)");
  }
  {
    auto [cmd, a] = step("conclude", "办结线索（四种形态） conclude a clue", true, Conclude);
    cmd->add_option("--form", a->form, "形态 form: 1|2|3|4")->required()->check(CLI::Range(1, 4));
    cmd->add_flag("--case-filed", a->case_filed, "已立案审查调查 a case was filed");
    cmd->add_option("--sanction", a->sanctions, "处分或处理（可重复） sanction (repeat)")->allow_extra_args(false);
    cmd->add_option("--feedback", a->feedback, "反馈给移送单位的结果（必填） feedback to the sending unit (required)");
  }
  {
    auto [cmd, a] = step("merge", "并案：将其他线索并入主线索 merge clues into PRIMARY", true, Merge);
    cmd->add_option("--with", a->merge_with, "并入的线索（ID或编号，可重复） clue to merge in (repeat)")
        ->required()
        ->allow_extra_args(false);
    cmd->add_option("--reason", a->reason, "理由 reason");
  }
  {
    auto [cmd, a] = step("note", "添加办理记录 add a progress note", false, Note);
    cmd->add_option("--text", a->text, "记录内容（必填） note text (required)");
    cmd->add_option("--attach", a->attachments,
                    "附件文件（只上传元数据，可重复） attachment file (metadata only; repeat)")
        ->allow_extra_args(false);
    AddRequestIdOption(cmd, &a->request_id);
  }
  {
    auto [cmd, a] = step("intervene", "同步介入 mark the commission's intervention", true, Intervene);
    cmd->add_option("--note", a->note, "说明 note");
  }
}

}  // namespace

void AddClueCommands(CLI::App& app, Commands& commands) {
  CLI::App* clue = AddGroup(&app, "clue", "问题线索 clues");
  AddRegister(clue, commands);
  AddSteps(clue, commands);
  AddClueRevealCommands(clue, commands);
  AddClueReadCommands(clue, commands);
}

}  // namespace sm::smctl
