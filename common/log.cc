#include "common/log.h"

#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <atomic>
#include <set>
#include <mutex>

namespace sm {
namespace {

thread_local RequestContext* g_current = nullptr;

// Marks a payload that is already a JSON object (built by log::Write) rather than a plain
// message from some other spdlog call.
constexpr char kStructuredMarker = '\x1e';

std::string g_service;  // set once by Init before any logging thread starts
std::atomic<bool> g_initialized{false};

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto t = std::chrono::system_clock::to_time_t(msg.time);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char ts[64];
    std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    nlohmann::ordered_json head = {{"ts", ts},
                           {"level", spdlog::level::to_string_view(msg.level).data()},
                           {"service", g_service}};
    if (const RequestContext* ctx = CurrentRequest()) {
      if (!ctx->request_id.empty()) head["request_id"] = ctx->request_id;
      if (!ctx->trace_id.empty()) head["trace_id"] = ctx->trace_id;
    }
    std::string out = log::Dump(head);
    std::string_view payload(msg.payload.data(), msg.payload.size());
    std::string body;
    if (!payload.empty() && payload[0] == kStructuredMarker) {
      body = std::string(payload.substr(1));
    } else {
      body = log::Dump(nlohmann::json{{"msg", std::string(payload)}});
    }
    // Splice: {head...} + {body...} -> {head..., body...}
    out.pop_back();
    if (body.size() > 2) {
      out += ",";
      out.append(body, 1, std::string::npos);
    } else {
      out += "}";
    }
    out += "\n";
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

const RequestContext* CurrentRequest() { return g_current; }

ScopedRequestContext::ScopedRequestContext(RequestContext* ctx) : previous_(g_current) {
  g_current = ctx;
}
ScopedRequestContext::~ScopedRequestContext() { g_current = previous_; }

namespace log {

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void Init(const std::string& service, const std::string& level,
          std::shared_ptr<spdlog::sinks::sink> sink) {
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
  nlohmann::ordered_json body = {{"msg", std::string(msg)}};
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    // Fields never shadow the line's own keys.
    static const std::set<std::string> kReserved = {"ts", "level", "service", "request_id", "trace_id", "msg"};
    body[kReserved.count(it.key()) ? "field_" + it.key() : it.key()] = it.value();
  }
  std::string payload(1, kStructuredMarker);
  payload += Dump(body);
  spdlog::default_logger_raw()->log(level, "{}", payload);
}

}  // namespace log
}  // namespace sm
