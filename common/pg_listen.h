// Wake-ups through PostgreSQL LISTEN/NOTIFY (ARCHITECTURE.md § How messages move): one
// dedicated connection per process listens on a channel and counts notifications; any
// number of threads wait for the count to move. Polling stays the fallback: Wait() times
// out, and callers read anyway.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "common/db/pool.h"

namespace sm::db {

class Listener {
 public:
  Listener(PoolConfig config, std::string channel);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Starts the listening thread; it reconnects by itself after losing PostgreSQL.
  void Start();
  void Stop();

  // Notifications seen so far.
  uint64_t count() const { return count_.load(); }
  // Waits until count() exceeds `seen` or `timeout` passes; returns count().
  uint64_t Wait(uint64_t seen, std::chrono::milliseconds timeout);
  // Wakes the waiters as a notification would: for a local event that calls for the same
  // reaction (e.g. the outbox relay has room again for commands it left in the table).
  void Poke() { Bump(); }

 private:
  void Run();
  void Bump();

  PoolConfig config_;
  std::string channel_;
  std::atomic<uint64_t> count_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace sm::db
