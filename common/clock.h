// Time, injected: anything with timeouts takes a Clock so tests advance time instead of
// sleeping. RealClock is thread-safe; ManualClock is thread-safe too.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace dfs {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds on a monotonic clock (for intervals).
  virtual int64_t NowMs() const = 0;
  // Milliseconds since the Unix epoch (for file times).
  virtual int64_t WallMs() const = 0;
};

class RealClock : public Clock {
 public:
  int64_t NowMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  int64_t WallMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

class ManualClock : public Clock {
 public:
  int64_t NowMs() const override { return now_; }
  int64_t WallMs() const override { return 1'700'000'000'000 + now_; }
  void Advance(int64_t ms) { now_ += ms; }

 private:
  std::atomic<int64_t> now_{1000};
};

}  // namespace dfs
