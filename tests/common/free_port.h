// FreePort: a loopback port that was free a moment ago, for tests that start servers.
#pragma once

#include <cstdint>
#include <random>

#include "common/net.h"

namespace dfs {

// Below the kernel's ephemeral range (32768+), so an outgoing connection cannot take the
// port between now and when a server binds it; random, so tests running in parallel
// rarely pick the same one.
inline uint16_t FreePort() {
  static thread_local std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pick(20000, 32000);
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto port = static_cast<uint16_t>(pick(rng));
    if (Listen("127.0.0.1", port).ok()) return port;
  }
  auto s = Listen("127.0.0.1", 0);
  return s.ok() ? LocalPort(*s) : 0;
}

}  // namespace dfs
