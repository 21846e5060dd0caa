// BlockScanner: re-reads every finalized replica in the background and checks its CRCs,
// so a replica that rots on disk is found before a reader needs it. A replica that fails
// (bad checksum, cut short, or its files gone) is reported through `corrupt`; the
// namenode then stops handing it out and replaces it from a good one.
//
// Reads at most `bytes_per_second`, and starts a new pass every `period_ms` (or as soon as
// the previous pass ends, if that takes longer). Thread-safe; owns one thread.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "datanode/block_store.h"

namespace dfs {

class BlockScanner {
 public:
  BlockScanner(BlockStore* store, uint64_t bytes_per_second, int64_t period_ms,
               std::function<void(const proto::Block&)> corrupt);
  ~BlockScanner();
  void Start();
  void Stop();

  // Verifies one replica now; returns what Read found (DataLoss, NotFound, or OK).
  Status Verify(const ReplicaInfo& r);

 private:
  void Loop();
  bool SleepMs(int64_t ms);  // false when stopping

  BlockStore* store_;
  const uint64_t bytes_per_second_;
  const int64_t period_ms_;
  std::function<void(const proto::Block&)> corrupt_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace dfs
