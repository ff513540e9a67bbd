// Redis through hiredis (synchronous API): a small pool of connections with RAII handles,
// connect and command timeouts, and reconnection. Redis is a cache and a signal bus only:
// when it is down, callers get UNAVAILABLE quickly (no reconnect storm: one attempt per
// retry interval) and fall back to PostgreSQL; the transition is logged once and shown by
// the sm_redis_up gauge.
#pragma once

#include <hiredis/hiredis.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <optional>
#include <string>
#include <vector>

#include <absl/status/statusor.h>
#include <prometheus/counter.h>

namespace sm::redis {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

struct Config {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;  // empty: no AUTH
  int db = 0;
  int pool_size = 4;
  std::chrono::milliseconds connect_timeout{200};
  std::chrono::milliseconds command_timeout{200};
  std::chrono::milliseconds retry_interval{1000};  // between reconnect attempts while down
  std::string key_prefix = "sm:";                  // prepended to every key
};

class Client {
 public:
  explicit Client(Config config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Runs one command (arguments are sent binary-safe; keys are not prefixed here).
  // Errors: UNAVAILABLE when Redis cannot be reached or the connection fails;
  // INTERNAL when Redis answers with an error reply.
  absl::StatusOr<ReplyPtr> Command(const std::vector<std::string>& args);

  // Convenience wrappers; keys get the configured prefix.
  absl::StatusOr<std::optional<std::string>> Get(const std::string& key);
  absl::Status Set(const std::string& key, const std::string& value, std::chrono::seconds ttl);
  absl::Status Del(const std::vector<std::string>& keys);
  absl::StatusOr<int64_t> Incr(const std::string& key);
  absl::Status Publish(const std::string& channel, const std::string& message);

  // Whether the last command reached Redis.
  bool up() const { return up_.load(); }
  const Config& config() const { return config_; }
  std::string Key(const std::string& key) const { return config_.key_prefix + key; }

 private:
  ContextPtr Connect();
  void MarkDown(const std::string& why);
  void MarkUp();

  Config config_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ContextPtr> idle_;
  int outstanding_ = 0;
  std::atomic<bool> up_{true};
  std::chrono::steady_clock::time_point next_attempt_{};
};

// Read-through cache of serialized values. Get() answers from Redis when it can; on a miss
// or any Redis error it calls `load` (PostgreSQL) and, on a miss, stores the result for
// `ttl`. Redis errors never fail the read. `name` labels sm_cache_requests_total.
//
// Concurrent Get()s of one key that all miss run `load` once: the others wait for its
// result (a burst of callers after a change costs one recomputation, not one each).
//
// `local_entries` > 0 adds an in-process layer in front of Redis holding up to that many
// values for `ttl`. Only for keys that name a version of what they hold (a value never
// changes under its key): an in-process copy cannot be invalidated by another replica.
class Cache {
 public:
  Cache(Client* client, std::string name, std::chrono::seconds ttl, size_t local_entries = 0)
      : client_(client), name_(std::move(name)), ttl_(ttl), local_limit_(local_entries) {
    if (local_limit_ > 0) {
      local_hits_ = &LocalCounter(name_, "local_hit");
      local_stale_ = &LocalCounter(name_, "local_stale");
    }
  }

  absl::StatusOr<std::string> Get(const std::string& key, const std::function<absl::StatusOr<std::string>()>& load);

  // The in-process copy of `key`, if one is held and fresh; never touches Redis or `load`,
  // so it never blocks on I/O (for callers on gRPC callback threads). Counted as a
  // local_hit when found; a miss is not counted (the caller goes on to Get()).
  // Past its ttl a copy is still right (the key names a version): the first caller to find
  // it so misses and goes on to Get() to reload it, and until that lands (or for
  // kReloadGrace, should it never come) the others are served the copy, counted as
  // local_stale. So a hot key's expiry costs one load, not a burst of callers at once.
  std::optional<std::string> Peek(const std::string& key);
  // The same without copying the value: the bytes held, shared (null on a miss).
  std::shared_ptr<const std::string> PeekShared(const std::string& key);

 private:
  struct Flight {
    bool done = false;
    absl::StatusOr<std::string> result;
  };
  struct Local {
    std::shared_ptr<const std::string> value;
    std::chrono::steady_clock::time_point expires;
    std::chrono::steady_clock::time_point reload_claimed{};  // set: a caller went to reload it
  };
  static constexpr std::chrono::seconds kReloadGrace{5};
  static prometheus::Counter& LocalCounter(const std::string& name, const char* result);
  absl::StatusOr<std::string> GetShared(const std::string& key,
                                        const std::function<absl::StatusOr<std::string>()>& load);

  Client* client_;  // may be null: no shared caching
  std::string name_;
  prometheus::Counter* local_hits_ = nullptr;   // sm_cache_requests_total{result="local_hit"}
  prometheus::Counter* local_stale_ = nullptr;  // sm_cache_requests_total{result="local_stale"}
  std::chrono::seconds ttl_;
  size_t local_limit_;
  std::mutex mu_;
  std::condition_variable landed_;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
  std::unordered_map<std::string, Local> local_;
};

}  // namespace sm::redis
