#include "common/config.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sm::config {

std::optional<std::string> ReadFileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

namespace {

void Flatten(const YAML::Node& node, const std::string& prefix, const std::string& origin,
             std::map<std::string, Source::Value>& out) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      std::string key = kv.first.as<std::string>();
      Flatten(kv.second, prefix.empty() ? key : prefix + "." + key, origin, out);
    }
  } else if (node.IsSequence()) {
    std::string joined;
    for (const auto& item : node) {
      if (!joined.empty()) joined += ",";
      joined += item.as<std::string>();
    }
    out[prefix] = {joined, origin};
  } else if (node.IsScalar()) {
    out[prefix] = {node.as<std::string>(), origin};
  } else if (node.IsNull()) {
    out[prefix] = {"", origin};
  }
}

absl::StatusOr<std::map<std::string, Source::Value>> ParseYaml(const std::string& text, const std::string& origin) {
  std::map<std::string, Source::Value> out;
  try {
    YAML::Node root = YAML::Load(text);
    if (root.IsNull()) return out;
    if (!root.IsMap()) return absl::InvalidArgumentError(origin + ": top level must be a map");
    Flatten(root, "", origin, out);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(origin + ": " + e.what());
  }
  return out;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::string Source::EnvName(const std::string& key) {
  std::string out = "SM_";
  for (char c : key) {
    out += (c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

absl::StatusOr<Source> Source::FromYaml(const std::string& yaml, const std::string& origin, EnvLookup env) {
  Source s;
  s.env_ = std::move(env);
  auto parsed = ParseYaml(yaml, origin);
  if (!parsed.ok()) return parsed.status();
  s.file_ = std::move(*parsed);
  return s;
}

absl::StatusOr<Source> Source::FromArgs(int argc, const char* const* argv, EnvLookup env) {
  std::optional<std::string> config_path = env("SM_CONFIG");
  std::vector<std::pair<std::string, std::string>> sets;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value_of = [&](const std::string& flag) -> std::optional<std::string> {
      if (arg == flag) {
        if (i + 1 >= argc) return std::nullopt;
        return std::string(argv[++i]);
      }
      if (arg.rfind(flag + "=", 0) == 0) return arg.substr(flag.size() + 1);
      return std::nullopt;
    };
    if (arg == "--config" || arg.rfind("--config=", 0) == 0) {
      auto v = value_of("--config");
      if (!v) return absl::InvalidArgumentError("--config needs a file name");
      config_path = *v;
    } else if (arg == "--set" || arg.rfind("--set=", 0) == 0) {
      auto v = value_of("--set");
      size_t eq = v ? v->find('=') : std::string::npos;
      if (!v || eq == std::string::npos || eq == 0) {
        return absl::InvalidArgumentError("--set needs key=value, got '" + (v ? *v : "") + "'");
      }
      sets.emplace_back(v->substr(0, eq), v->substr(eq + 1));
    } else {
      return absl::InvalidArgumentError("unknown argument '" + arg + "' (use --config FILE and --set key=value)");
    }
  }
  Source s;
  s.env_ = env;
  if (config_path && !config_path->empty()) {
    std::ifstream in(*config_path);
    if (!in) return absl::InvalidArgumentError("cannot read config file '" + *config_path + "'");
    std::stringstream buf;
    buf << in.rdbuf();
    auto parsed = ParseYaml(buf.str(), "file " + *config_path);
    if (!parsed.ok()) return parsed.status();
    s.file_ = std::move(*parsed);
  }
  for (auto& [k, v] : sets) s.Set(k, v);
  return s;
}

void Source::Set(const std::string& key, const std::string& value) { flags_[key] = {value, "flag --set " + key}; }

std::optional<Source::Value> Source::Lookup(const std::string& key) const {
  if (auto it = flags_.find(key); it != flags_.end()) return it->second;
  std::string env_name = EnvName(key);
  if (env_) {
    if (auto v = env_(env_name)) return Value{*v, "env " + env_name};
  }
  if (auto it = file_.find(key); it != file_.end()) return it->second;
  return std::nullopt;
}

std::set<std::string> Source::ExplicitKeys() const {
  std::set<std::string> keys;
  for (const auto& [k, v] : file_) keys.insert(k);
  for (const auto& [k, v] : flags_) keys.insert(k);
  return keys;
}

std::optional<Source::Value> Reader::Get(const std::string& key) {
  read_.insert(key);
  return source_.Lookup(key);
}

void Reader::Fail(const std::string& key, const std::string& problem) { errors_.push_back(key + ": " + problem); }

std::string Reader::String(const std::string& key, const std::string& def) {
  auto v = Get(key);
  return v ? v->text : def;
}

std::string Reader::RequiredString(const std::string& key) {
  auto v = Get(key);
  if (!v || v->text.empty()) {
    Fail(key, "is required (set it in the config file, " + Source::EnvName(key) + " or --set " + key + "=...)");
    return "";
  }
  return v->text;
}

int64_t Reader::Int(const std::string& key, int64_t def, int64_t min, int64_t max) {
  auto v = Get(key);
  if (!v) return def;
  try {
    size_t used = 0;
    long long n = std::stoll(v->text, &used);
    if (used != v->text.size()) throw std::invalid_argument("trailing");
    if (n < min || n > max) {
      Fail(key, "value " + v->text + " from " + v->origin + " is outside " + std::to_string(min) + ".." +
                    std::to_string(max));
      return def;
    }
    return n;
  } catch (const std::exception&) {
    Fail(key, "value '" + v->text + "' from " + v->origin + " is not an integer");
    return def;
  }
}

bool Reader::Bool(const std::string& key, bool def) {
  auto v = Get(key);
  if (!v) return def;
  if (v->text == "true" || v->text == "1" || v->text == "yes" || v->text == "on") return true;
  if (v->text == "false" || v->text == "0" || v->text == "no" || v->text == "off") return false;
  Fail(key, "value '" + v->text + "' from " + v->origin + " is not a boolean");
  return def;
}

std::chrono::milliseconds Reader::Millis(const std::string& key, int64_t def, int64_t min, int64_t max) {
  return std::chrono::milliseconds(Int(key, def, min, max));
}

std::string Reader::Enum(const std::string& key, const std::string& def, const std::vector<std::string>& allowed) {
  auto v = Get(key);
  if (!v) return def;
  for (const auto& a : allowed) {
    if (a == v->text) return a;
  }
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  Fail(key, "value '" + v->text + "' from " + v->origin + " is not one of " + list);
  return def;
}

std::string Reader::HostPort(const std::string& key, const std::string& def) {
  auto v = Get(key);
  std::string text = v ? v->text : def;
  size_t colon = text.rfind(':');
  bool ok = colon != std::string::npos && colon > 0 && colon + 1 < text.size() && text.size() - colon - 1 <= 5;
  if (ok) {
    for (size_t i = colon + 1; i < text.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) ok = false;
    }
    if (ok && std::stol(text.substr(colon + 1)) > 65535) ok = false;
  }
  if (!ok) {
    Fail(key, "value '" + text + "'" + (v ? " from " + v->origin : "") + " is not host:port");
    return def;
  }
  return text;
}

absl::Status Reader::Finish() const {
  std::vector<std::string> problems = errors_;
  for (const auto& key : source_.ExplicitKeys()) {
    if (!read_.count(key)) {
      auto v = source_.Lookup(key);
      problems.push_back(key + ": unknown key" + (v ? " (from " + v->origin + ")" : ""));
    }
  }
  if (problems.empty()) return absl::OkStatus();
  std::string message = "invalid configuration:";
  for (const auto& p : problems) message += "\n  " + p;
  return absl::InvalidArgumentError(message);
}

}  // namespace sm::config
