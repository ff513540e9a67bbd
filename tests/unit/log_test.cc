// Tests for common/log.h: every line is one JSON object (ts, level, service, msg, fields),
// lines written inside a ScopedRequestContext carry its ids, bad UTF-8 never throws, and
// plain spdlog calls become JSON too. Lines are captured with an ostream sink.
#include "common/log.h"

#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

namespace sm {
namespace {

using ::testing::SizeIs;

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override { Init("info"); }
  // The default logger must not outlive `out_`.
  void TearDown() override { log::Init("test", "off", std::make_shared<spdlog::sinks::null_sink_mt>()); }

  void Init(const std::string& level) {
    out_.str("");
    log::Init("directory-service", level, std::make_shared<spdlog::sinks::ostream_sink_mt>(out_));
  }

  std::vector<std::string> RawLines() {
    spdlog::default_logger()->flush();
    std::vector<std::string> lines;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  // Every captured line, parsed; a line that is not one JSON object fails the test.
  std::vector<nlohmann::json> Lines() {
    std::vector<nlohmann::json> out;
    for (const auto& line : RawLines()) {
      auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      EXPECT_TRUE(j.is_object()) << "not a JSON object: " << line;
      out.push_back(j);
    }
    return out;
  }

  std::ostringstream out_;
};

TEST_F(LogTest, InfoIsOneJsonObjectWithTheStandardKeys) {
  log::Info("directory imported");
  auto lines = Lines();
  ASSERT_THAT(lines, SizeIs(1));
  const auto& j = lines[0];
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["service"], "directory-service");
  EXPECT_EQ(j["msg"], "directory imported");
  ASSERT_TRUE(j["ts"].is_string());
  EXPECT_TRUE(std::regex_match(j["ts"].get<std::string>(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << j["ts"];
  EXPECT_FALSE(j.contains("request_id")) << "no request in progress";
  EXPECT_FALSE(j.contains("trace_id"));
  // The fixed keys come first, in the documented order.
  std::vector<std::string> keys;
  auto ordered = nlohmann::ordered_json::parse(RawLines()[0]);
  for (auto it = ordered.begin(); it != ordered.end(); ++it) keys.push_back(it.key());
  EXPECT_THAT(keys, ::testing::ElementsAre("ts", "level", "service", "msg"));
}

TEST_F(LogTest, LevelsAreNamed) {
  Init("trace");
  log::Debug("d");
  log::Info("i");
  log::Warn("w");
  log::Error("e");
  auto lines = Lines();
  ASSERT_THAT(lines, SizeIs(4));
  EXPECT_EQ(lines[0]["level"], "debug");
  EXPECT_EQ(lines[1]["level"], "info");
  EXPECT_EQ(lines[2]["level"], "warning");
  EXPECT_EQ(lines[3]["level"], "error");
}

TEST_F(LogTest, LevelFiltersLines) {
  Init("warn");
  log::Debug("hidden");
  log::Info("hidden");
  spdlog::info("hidden too");
  log::Warn("shown");
  log::Error("shown");
  auto lines = Lines();
  ASSERT_THAT(lines, SizeIs(2));
  EXPECT_EQ(lines[0]["msg"], "shown");
}

TEST_F(LogTest, FieldsAppearWithTheirTypes) {
  log::Info("import finished", {{"units", 12},
                                {"dry_run", false},
                                {"ratio", 0.5},
                                {"code", "dept-1"},
                                {"changes", {{"created", 3}}},
                                {"names", {"a", "b"}}});
  auto lines = Lines();
  ASSERT_THAT(lines, SizeIs(1));
  const auto& j = lines[0];
  EXPECT_EQ(j["msg"], "import finished");
  EXPECT_EQ(j["units"], 12);
  EXPECT_EQ(j["dry_run"], false);
  EXPECT_EQ(j["ratio"], 0.5);
  EXPECT_EQ(j["code"], "dept-1");
  EXPECT_EQ(j["changes"]["created"], 3);
  EXPECT_EQ(j["names"], nlohmann::json({"a", "b"}));
  EXPECT_EQ(j["service"], "directory-service");
}

TEST_F(LogTest, RequestContextIdsAreOnEveryLineInsideTheScope) {
  RequestContext outer{"req-1", "trace-1", "/supervision.v1.DirectoryService/GetUnit", "alice"};
  RequestContext inner{"req-2", "trace-2", "/supervision.v1.DirectoryService/ListUnits", "bob"};
  EXPECT_EQ(CurrentRequest(), nullptr);
  {
    ScopedRequestContext scope(&outer);
    EXPECT_EQ(CurrentRequest(), &outer);
    log::Info("first");
    spdlog::warn("plain {}", 2);
    {
      ScopedRequestContext nested(&inner);
      EXPECT_EQ(CurrentRequest(), &inner);
      log::Info("nested");
    }
    EXPECT_EQ(CurrentRequest(), &outer);
    log::Info("back");
  }
  EXPECT_EQ(CurrentRequest(), nullptr);
  log::Info("after");

  auto lines = Lines();
  ASSERT_THAT(lines, SizeIs(5));
  EXPECT_EQ(lines[0]["request_id"], "req-1");
  EXPECT_EQ(lines[0]["trace_id"], "trace-1");
  EXPECT_EQ(lines[1]["request_id"], "req-1");
  EXPECT_EQ(lines[1]["msg"], "plain 2");
  EXPECT_EQ(lines[2]["request_id"], "req-2");
  EXPECT_EQ(lines[2]["trace_id"], "trace-2");
  EXPECT_EQ(lines[3]["request_id"], "req-1");
  EXPECT_FALSE(lines[4].contains("request_id"));
  EXPECT_FALSE(lines[4].contains("trace_id"));
  // The user and method are not logged by the formatter (callers add what they need).
  EXPECT_FALSE(lines[0].contains("user"));
}

TEST_F(LogTest, RequestContextIsPerThread) {
  RequestContext ctx{"req-main", "trace-main", "", ""};
  ScopedRequestContext scope(&ctx);
  const RequestContext* seen = &ctx;
  std::thread([&] {
    seen = CurrentRequest();
    log::Info("from another thread");
  }).join();
  EXPECT_EQ(seen, nullptr);
  auto lines = Lines();
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_FALSE(lines[0].contains("request_id"));
}

TEST_F(LogTest, EmptyIdsAreLeftOut) {
  RequestContext ctx{"req-only", "", "", ""};
  ScopedRequestContext scope(&ctx);
  log::Info("x");
  auto lines = Lines();
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_EQ(lines[0]["request_id"], "req-only");
  EXPECT_FALSE(lines[0].contains("trace_id"));
}

TEST_F(LogTest, InvalidUtf8NeverThrowsAndStillGivesJson) {
  RequestContext ctx{"req-\xc3", "trace-\xff", "", ""};
  ScopedRequestContext scope(&ctx);
  EXPECT_NO_THROW(log::Info("bad \xff\xfe bytes"));
  EXPECT_NO_THROW(log::Info("ok", {{"field", "also \xc0\xaf bad"}}));
  EXPECT_NO_THROW(spdlog::info("plain \xed\xa0\x80 surrogate"));
  EXPECT_NO_THROW(spdlog::info("arg {}", std::string("\xff")));
  auto lines = Lines();
  ASSERT_THAT(lines, SizeIs(4));
  EXPECT_EQ(lines[0]["msg"], "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes") << "replaced with U+FFFD";
  EXPECT_TRUE(lines[1]["field"].is_string());
  EXPECT_TRUE(lines[0]["request_id"].is_string());
}

TEST_F(LogTest, EscapesEveryControlCharacterAndQuoteInIdsMessagesAndFields) {
  RequestContext ctx{"req-\"quoted\\", "trace\x01", "", ""};
  ScopedRequestContext scope(&ctx);
  std::string all_controls;
  for (char c = 1; c < 0x20; ++c) all_controls += c;
  log::Info("m\"" + all_controls, {{"k\"ey", "v\\" + all_controls}, {"n", 7}, {"u", "中文"}});
  auto raw = RawLines();
  ASSERT_THAT(raw, SizeIs(1));
  auto j = nlohmann::json::parse(raw[0]);
  EXPECT_EQ(j["request_id"], "req-\"quoted\\");
  EXPECT_EQ(j["trace_id"], "trace\x01");
  EXPECT_EQ(j["msg"], "m\"" + all_controls);
  EXPECT_EQ(j["k\"ey"], "v\\" + all_controls);
  EXPECT_EQ(j["n"], 7);
  EXPECT_EQ(j["u"], "中文");
}

TEST_F(LogTest, PlainSpdlogCallsBecomeJson) {
  spdlog::info("x {}", 1);
  spdlog::error("quote \" backslash \\ newline \n tab \t end");
  auto raw = RawLines();
  ASSERT_THAT(raw, SizeIs(2)) << "a newline in a message must not split the line";
  auto lines = Lines();
  EXPECT_EQ(lines[0]["msg"], "x 1");
  EXPECT_EQ(lines[0]["level"], "info");
  EXPECT_EQ(lines[0]["service"], "directory-service");
  EXPECT_EQ(lines[1]["msg"], "quote \" backslash \\ newline \n tab \t end");
  EXPECT_EQ(lines[1]["level"], "error");
}

TEST_F(LogTest, StructuredMessagesWithNewlinesStayOnOneLine) {
  log::Info("line one\nline two", {{"detail", "a\nb"}});
  auto raw = RawLines();
  ASSERT_THAT(raw, SizeIs(1));
  auto j = nlohmann::json::parse(raw[0]);
  EXPECT_EQ(j["msg"], "line one\nline two");
  EXPECT_EQ(j["detail"], "a\nb");
}

TEST_F(LogTest, EmptyMessageIsStillAnObject) {
  log::Info("");
  spdlog::info("");
  auto lines = Lines();
  ASSERT_THAT(lines, SizeIs(2));
  EXPECT_EQ(lines[0]["msg"], "");
  EXPECT_EQ(lines[1]["msg"], "");
}

TEST_F(LogTest, InitAgainSwitchesServiceAndSink) {
  log::Info("before");
  std::ostringstream other;
  log::Init("workflow-service", "info", std::make_shared<spdlog::sinks::ostream_sink_mt>(other));
  log::Info("after");
  spdlog::default_logger()->flush();
  auto j = nlohmann::json::parse(other.str());
  EXPECT_EQ(j["service"], "workflow-service");
  EXPECT_EQ(j["msg"], "after");
  EXPECT_THAT(Lines(), SizeIs(1)) << "the old sink got only the first line";
}

TEST(LogDump, ReplacesInvalidUtf8) {
  EXPECT_EQ(log::Dump(nlohmann::json{{"a", "\xff"}}), "{\"a\":\"\xEF\xBF\xBD\"}");
  EXPECT_EQ(log::Dump(nlohmann::ordered_json{{"b", 1}, {"a", "x"}}), "{\"b\":1,\"a\":\"x\"}");
  EXPECT_EQ(log::Dump(nlohmann::json("中文")), "\"中文\"");
}

}  // namespace
}  // namespace sm
