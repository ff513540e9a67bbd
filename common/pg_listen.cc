#include "common/pg_listen.h"

#include "common/log.h"

namespace sm::db {
namespace {

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& c, const std::string& channel, std::function<void()> on)
      : pqxx::notification_receiver(c, channel), on_(std::move(on)) {}
  void operator()(const std::string&, int) override { on_(); }

 private:
  std::function<void()> on_;
};

}  // namespace

Listener::Listener(PoolConfig config, std::string channel) : config_(std::move(config)), channel_(std::move(channel)) {}

Listener::~Listener() { Stop(); }

void Listener::Start() {
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Listener::Stop() {
  stop_ = true;
  Bump();
  if (thread_.joinable()) thread_.join();
}

void Listener::Bump() {
  {
    std::lock_guard lock(mu_);
    ++count_;
  }
  cv_.notify_all();
}

uint64_t Listener::Wait(uint64_t seen, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return count_.load() > seen || stop_.load(); });
  return count_.load();
}

void Listener::Run() {
  while (!stop_) {
    try {
      pqxx::connection conn(ConnectionString(config_));
      Receiver receiver(conn, channel_, [this] { Bump(); });
      Bump();  // anything may have happened while we were not listening
      while (!stop_) conn.await_notification(0, 200000);
    } catch (const std::exception& e) {
      if (stop_) break;
      log::Warn("notification listener lost PostgreSQL; retrying", {{"channel", channel_}});
      for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

}  // namespace sm::db
