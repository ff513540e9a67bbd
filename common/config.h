// Process configuration: a YAML file, overridden by environment variables, overridden by
// flags, read once at start-up into one checked struct per process. A bad or missing value
// stops start-up with a message naming the key and where the value came from.
//
// Keys are dotted paths into the YAML file ("db.pool_size"). The environment variable for a
// key is SM_ + the key upper-cased with dots as underscores (SM_DB_POOL_SIZE). Flags are
// `--config FILE` (or SM_CONFIG) and `--set key=value`, repeatable.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

namespace sm::config {

// A whole file's bytes, or nullopt when it cannot be read: the one file read for key,
// certificate and key-set files named in configuration.
std::optional<std::string> ReadFileText(const std::string& path);

// Looks up an environment variable; injectable so tests need not touch the real one.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

class Source {
 public:
  // Parses the command line; reads the YAML file named by --config or SM_CONFIG, if any.
  // Errors: INVALID_ARGUMENT for an unknown flag, a malformed --set or an unreadable or
  // invalid file (the message names it).
  static absl::StatusOr<Source> FromArgs(int argc, const char* const* argv, EnvLookup env = ProcessEnv());
  // A source from YAML text alone; `origin` names it in messages.
  static absl::StatusOr<Source> FromYaml(const std::string& yaml, const std::string& origin,
                                         EnvLookup env = ProcessEnv());

  // Sets `key` as if given by --set.
  void Set(const std::string& key, const std::string& value);

  struct Value {
    std::string text;
    std::string origin;  // "file x.yaml", "env SM_X", "flag --set x"
  };
  // The value in force for `key`, by precedence flag > environment > file.
  std::optional<Value> Lookup(const std::string& key) const;
  // Keys given in the file or by flags.
  std::set<std::string> ExplicitKeys() const;

  static std::string EnvName(const std::string& key);

 private:
  std::map<std::string, Value> file_;
  std::map<std::string, Value> flags_;
  EnvLookup env_;
};

// Typed reads that collect every problem; Finish() reports them all at once, plus any key
// in the file or flags that nothing read (a typo would otherwise be ignored silently).
class Reader {
 public:
  explicit Reader(const Source& source) : source_(source) {}

  std::string String(const std::string& key, const std::string& def);
  std::string RequiredString(const std::string& key);
  int64_t Int(const std::string& key, int64_t def, int64_t min, int64_t max);
  bool Bool(const std::string& key, bool def);
  std::chrono::milliseconds Millis(const std::string& key, int64_t def, int64_t min, int64_t max);
  // One of `allowed`, compared exactly.
  std::string Enum(const std::string& key, const std::string& def, const std::vector<std::string>& allowed);
  // "host:port" with a numeric port in 0..65535.
  std::string HostPort(const std::string& key, const std::string& def);

  // Records a problem found by a caller's own cross-field check.
  void Fail(const std::string& key, const std::string& problem);

  // OK, or INVALID_ARGUMENT listing every problem, one per line.
  absl::Status Finish() const;

 private:
  std::optional<Source::Value> Get(const std::string& key);
  const Source& source_;
  std::set<std::string> read_;
  std::vector<std::string> errors_;
};

}  // namespace sm::config
