#include "common/redis.h"

#include "common/log.h"
#include "common/metrics.h"

namespace sm::redis {
namespace {

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

}  // namespace

Client::Client(Config config) : config_(std::move(config)) { metrics::Metrics::Global().redis_up.Add({}).Set(1); }

Client::~Client() = default;

void Client::MarkDown(const std::string& why) {
  metrics::Metrics::Global().redis_errors.Add({}).Increment();
  if (up_.exchange(false)) {
    metrics::Metrics::Global().redis_up.Add({}).Set(0);
    log::Warn("redis unavailable; reads fall back to PostgreSQL",
              {{"redis", config_.host + ":" + std::to_string(config_.port)}, {"error", why}});
  }
}

void Client::MarkUp() {
  if (!up_.exchange(true)) {
    metrics::Metrics::Global().redis_up.Add({}).Set(1);
    log::Info("redis reachable again", {{"redis", config_.host + ":" + std::to_string(config_.port)}});
  }
}

ContextPtr Client::Connect() {
  timeval tv = ToTimeval(config_.connect_timeout);
  ContextPtr ctx(redisConnectWithTimeout(config_.host.c_str(), config_.port, tv));
  if (!ctx || ctx->err) {
    MarkDown(ctx ? ctx->errstr : "cannot allocate context");
    return nullptr;
  }
  timeval ctv = ToTimeval(config_.command_timeout);
  redisSetTimeout(ctx.get(), ctv);
  auto run = [&](std::vector<std::string> args) -> bool {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    ReplyPtr r(
        static_cast<redisReply*>(redisCommandArgv(ctx.get(), static_cast<int>(argv.size()), argv.data(), lens.data())));
    return r && r->type != REDIS_REPLY_ERROR;
  };
  if (!config_.password.empty() && !run({"AUTH", config_.password})) {
    MarkDown("AUTH refused");
    return nullptr;
  }
  if (config_.db != 0 && !run({"SELECT", std::to_string(config_.db)})) {
    MarkDown("SELECT refused");
    return nullptr;
  }
  return ctx;
}

absl::StatusOr<ReplyPtr> Client::Command(const std::vector<std::string>& args) {
  ContextPtr ctx;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || outstanding_ < config_.pool_size; });
    if (!idle_.empty()) {
      ctx = std::move(idle_.back());
      idle_.pop_back();
    } else {
      auto now = std::chrono::steady_clock::now();
      if (!up_.load() && now < next_attempt_) {
        return absl::UnavailableError("redis unavailable");
      }
      next_attempt_ = now + config_.retry_interval;
    }
    ++outstanding_;
  }
  auto give_back = [&](ContextPtr c) {
    std::lock_guard lock(mu_);
    --outstanding_;
    if (c) idle_.push_back(std::move(c));
    cv_.notify_one();
  };
  if (!ctx) ctx = Connect();
  if (!ctx) {
    give_back(nullptr);
    return absl::UnavailableError("redis unavailable");
  }
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  ReplyPtr reply(
      static_cast<redisReply*>(redisCommandArgv(ctx.get(), static_cast<int>(argv.size()), argv.data(), lens.data())));
  if (!reply || ctx->err) {
    MarkDown(ctx->err ? ctx->errstr : "no reply");
    {
      std::lock_guard lock(mu_);
      next_attempt_ = std::chrono::steady_clock::now() + config_.retry_interval;
    }
    give_back(nullptr);  // drop the broken connection
    return absl::UnavailableError("redis unavailable");
  }
  MarkUp();
  give_back(std::move(ctx));
  if (reply->type == REDIS_REPLY_ERROR) {
    return absl::InternalError("redis error: " + std::string(reply->str, reply->len));
  }
  return reply;
}

absl::StatusOr<std::optional<std::string>> Client::Get(const std::string& key) {
  auto r = Command({"GET", Key(key)});
  if (!r.ok()) return r.status();
  if ((*r)->type == REDIS_REPLY_NIL) return std::optional<std::string>();
  if ((*r)->type != REDIS_REPLY_STRING) return absl::InternalError("redis GET: unexpected reply");
  return std::optional<std::string>(std::string((*r)->str, (*r)->len));
}

absl::Status Client::Set(const std::string& key, const std::string& value, std::chrono::seconds ttl) {
  auto r = Command({"SET", Key(key), value, "EX", std::to_string(std::max<int64_t>(1, ttl.count()))});
  return r.status();
}

absl::Status Client::Del(const std::vector<std::string>& keys) {
  if (keys.empty()) return absl::OkStatus();
  std::vector<std::string> args = {"DEL"};
  for (const auto& k : keys) args.push_back(Key(k));
  return Command(args).status();
}

absl::StatusOr<int64_t> Client::Incr(const std::string& key) {
  auto r = Command({"INCR", Key(key)});
  if (!r.ok()) return r.status();
  return static_cast<int64_t>((*r)->integer);
}

absl::Status Client::Publish(const std::string& channel, const std::string& message) {
  return Command({"PUBLISH", Key(channel), message}).status();
}

absl::StatusOr<std::string> Cache::Get(const std::string& key,
                                       const std::function<absl::StatusOr<std::string>()>& load) {
  auto& counter = metrics::Metrics::Global().cache_requests;
  std::shared_ptr<Flight> flight;
  {
    std::unique_lock lock(mu_);
    if (local_limit_ > 0) {
      auto it = local_.find(key);
      if (it != local_.end()) {
        if (it->second.expires > std::chrono::steady_clock::now()) {
          local_hits_->Increment();
          return *it->second.value;
        }
        // Expired: kept for PeekShared to serve while this load runs; replaced when it lands.
      }
    }
    if (auto it = flights_.find(key); it != flights_.end()) {
      // Someone is already fetching this key: take their answer.
      std::shared_ptr<Flight> other = it->second;
      landed_.wait(lock, [&] { return other->done; });
      counter.Add({{"cache", name_}, {"result", "shared_wait"}}).Increment();
      return other->result;
    }
    flight = std::make_shared<Flight>();
    flights_.emplace(key, flight);
  }
  absl::StatusOr<std::string> result = absl::InternalError("cache load failed");
  auto land = [&] {
    {
      std::lock_guard lock(mu_);
      if (result.ok() && local_limit_ > 0) {
        const auto now = std::chrono::steady_clock::now();
        if (local_.size() >= local_limit_) {
          std::erase_if(local_, [&](const auto& kv) { return kv.second.expires <= now; });
          if (local_.size() >= local_limit_) local_.clear();  // versions moved on: start afresh
        }
        local_[key] = Local{std::make_shared<const std::string>(*result), now + ttl_};
      }
      flight->result = result;
      flight->done = true;
      flights_.erase(key);
    }
    landed_.notify_all();
  };
  try {
    result = GetShared(key, load);
  } catch (...) {
    land();  // waiters get an error; the exception goes on to the caller
    throw;
  }
  land();
  return result;
}

prometheus::Counter& Cache::LocalCounter(const std::string& name, const char* result) {
  return metrics::Metrics::Global().cache_requests.Add({{"cache", name}, {"result", result}});
}

std::optional<std::string> Cache::Peek(const std::string& key) {
  std::shared_ptr<const std::string> held = PeekShared(key);
  if (!held) return std::nullopt;
  return *held;
}

std::shared_ptr<const std::string> Cache::PeekShared(const std::string& key) {
  if (local_limit_ == 0) return nullptr;
  std::shared_ptr<const std::string> held;
  bool stale = false;
  {
    std::lock_guard lock(mu_);
    auto it = local_.find(key);
    if (it == local_.end()) return nullptr;
    Local& l = it->second;
    const auto now = std::chrono::steady_clock::now();
    if (l.expires <= now) {
      if (l.reload_claimed == std::chrono::steady_clock::time_point{} || now - l.reload_claimed > kReloadGrace) {
        l.reload_claimed = now;  // this caller reloads it (Get); the others get the copy meanwhile
        return nullptr;
      }
      stale = true;
    }
    held = l.value;
  }
  (stale ? local_stale_ : local_hits_)->Increment();
  return held;
}

absl::StatusOr<std::string> Cache::GetShared(const std::string& key,
                                             const std::function<absl::StatusOr<std::string>()>& load) {
  auto& counter = metrics::Metrics::Global().cache_requests;
  if (client_ == nullptr) return load();
  auto cached = client_->Get(key);
  if (cached.ok() && cached->has_value()) {
    counter.Add({{"cache", name_}, {"result", "hit"}}).Increment();
    return std::move(**cached);
  }
  counter.Add({{"cache", name_}, {"result", cached.ok() ? "miss" : "error"}}).Increment();
  auto loaded = load();
  if (loaded.ok() && cached.ok()) {
    client_->Set(key, *loaded, ttl_).IgnoreError();  // a failed fill only costs a later miss
  }
  return loaded;
}

}  // namespace sm::redis
