// Logging: one JSON object per line (spdlog). Every line written while a request is being
// served carries that request's request_id and trace_id (see RequestContext).
// Never pass reporter identity or other sensitive fields to a log call.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <spdlog/common.h>
#include <spdlog/sinks/sink.h>

namespace sm {

// Who and what the current call is about; set by the server wrapper for the duration of a
// handler, read by logging and by outgoing calls (which forward the ids).
struct RequestContext {
  std::string request_id;
  std::string trace_id;
  std::string method;  // "/supervision.v1.DirectoryService/GetUnit"
  std::string user;    // the end user on whose behalf the call runs, once authenticated
};

// The context of the call this thread is serving, or nullptr.
const RequestContext* CurrentRequest();

// Installs `ctx` as this thread's current context until destroyed (restores the previous).
class ScopedRequestContext {
 public:
  explicit ScopedRequestContext(RequestContext* ctx);
  ~ScopedRequestContext();
  ScopedRequestContext(const ScopedRequestContext&) = delete;
  ScopedRequestContext& operator=(const ScopedRequestContext&) = delete;

 private:
  RequestContext* previous_;
};

namespace log {

// Sets up the default logger: JSON lines on stderr, tagged with `service`. `level` is one of
// trace, debug, info, warn, error, critical, off. Safe to call again (tests).
// `sink` replaces stderr (tests capture lines with an ostream sink).
void Init(const std::string& service, const std::string& level, std::shared_ptr<spdlog::sinks::sink> sink = nullptr);

// One structured line: {"ts","level","service","request_id","trace_id","msg",...fields}.
void Write(spdlog::level::level_enum level, std::string_view msg,
           const nlohmann::json& fields = nlohmann::json::object());
inline void Debug(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  Write(spdlog::level::debug, m, f);
}
inline void Info(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  Write(spdlog::level::info, m, f);
}
inline void Warn(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  Write(spdlog::level::warn, m, f);
}
inline void Error(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  Write(spdlog::level::err, m, f);
}

// Serializes `j` as JSON, replacing invalid UTF-8 instead of throwing.
std::string Dump(const nlohmann::json& j);
std::string Dump(const nlohmann::ordered_json& j);

}  // namespace log
}  // namespace sm
