#include "common/log.h"

#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <atomic>
#include <mutex>

namespace sm {
namespace {

thread_local RequestContext* g_current = nullptr;

// Marks a payload that is already a JSON object (built by log::Write) rather than a plain
// message from some other spdlog call.
constexpr char kStructuredMarker = '\x1e';

std::string g_service;  // set once by Init before any logging thread starts
std::atomic<bool> g_initialized{false};

// Appends `s` as a JSON string. Printable ASCII (ids, codes, most messages) is copied with
// the few escapes JSON needs; anything else goes through nlohmann, which also replaces
// invalid UTF-8.
void AppendJsonString(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) {
      out += log::Dump(nlohmann::json(std::string(s)));
      return;
    }
  }
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto t = std::chrono::system_clock::to_time_t(msg.time);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char ts[64];
    std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    std::string out;
    out.reserve(256 + msg.payload.size());
    out += "{\"ts\":\"";
    out += ts;
    out += "\",\"level\":";
    const auto level = spdlog::level::to_string_view(msg.level);
    AppendJsonString(out, std::string_view(level.data(), level.size()));
    out += ",\"service\":";
    AppendJsonString(out, g_service);
    if (const RequestContext* ctx = CurrentRequest()) {
      if (!ctx->request_id.empty()) {
        out += ",\"request_id\":";
        AppendJsonString(out, ctx->request_id);
      }
      if (!ctx->trace_id.empty()) {
        out += ",\"trace_id\":";
        AppendJsonString(out, ctx->trace_id);
      }
    }
    std::string_view payload(msg.payload.data(), msg.payload.size());
    if (!payload.empty() && payload[0] == kStructuredMarker) {
      out.append(payload.substr(1));  // the members log::Write made: ,"msg":...,"field":...
    } else {
      out += ",\"msg\":";
      AppendJsonString(out, payload);
    }
    out += "}\n";
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

const RequestContext* CurrentRequest() { return g_current; }

ScopedRequestContext::ScopedRequestContext(RequestContext* ctx) : previous_(g_current) { g_current = ctx; }
ScopedRequestContext::~ScopedRequestContext() { g_current = previous_; }

namespace log {

std::string Dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

std::string Dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void Init(const std::string& service, const std::string& level, std::shared_ptr<spdlog::sinks::sink> sink) {
  g_service = service;
  spdlog::drop("sm");
  std::shared_ptr<spdlog::logger> logger;
  if (sink) {
    logger = std::make_shared<spdlog::logger>("sm", sink);
    spdlog::register_logger(logger);
  } else {
    logger = spdlog::stderr_logger_mt("sm");
  }
  logger->set_formatter(std::make_unique<JsonFormatter>());
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  g_initialized = true;
}

void Write(spdlog::level::level_enum level, std::string_view msg, const nlohmann::json& fields) {
  // Code that logs before (or without) Init still writes JSON lines.
  static std::once_flag once;
  std::call_once(once, [] {
    if (!g_initialized.load()) Init("supervision-mesh", "info");
  });
  if (!spdlog::default_logger_raw()->should_log(level)) return;
  // The members after the line's head: ,"msg":"...","field":value...
  std::string payload(1, kStructuredMarker);
  payload += ",\"msg\":";
  AppendJsonString(payload, msg);
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    // Fields never shadow the line's own keys.
    const std::string& key = it.key();
    const bool reserved =
        key == "ts" || key == "level" || key == "service" || key == "request_id" || key == "trace_id" || key == "msg";
    payload += ',';
    AppendJsonString(payload, reserved ? "field_" + key : key);
    payload += ':';
    if (it.value().is_string()) {
      AppendJsonString(payload, it.value().get_ref<const std::string&>());
    } else {
      payload += Dump(it.value());
    }
  }
  spdlog::default_logger_raw()->log(level, "{}", payload);
}

}  // namespace log
}  // namespace sm
