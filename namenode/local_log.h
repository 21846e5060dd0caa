// LocalLog: the namespace's write-ahead log on one machine. Entries are appended to
// <dir>/edits and fdatasynced in batches (group commit: one sync for every proposal that
// arrived while the previous sync ran), then applied in order on the log's own thread.
// Every `checkpoint_every` entries the state machine saves <dir>/image and the edits
// file starts afresh. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "common/record_file.h"
#include "namenode/replicated_log.h"

namespace dfs {

class LocalLog : public ReplicatedLog {
 public:
  LocalLog(std::string dir, uint64_t checkpoint_every);
  ~LocalLog() override;

  Status Start(StateMachine* sm) override;
  std::future<Result<uint64_t>> Propose(std::string entry) override;
  void Stop() override;

 private:
  struct Pending {
    std::string entry;
    std::promise<Result<uint64_t>> done;
  };
  void WriterLoop();
  Status Checkpoint();

  const std::string dir_;
  const uint64_t checkpoint_every_;
  StateMachine* sm_ = nullptr;
  std::unique_ptr<RecordWriter> edits_;  // owned by the writer thread after Start
  uint64_t last_index_ = 0;
  uint64_t since_checkpoint_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;  // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  Status failed_;              // guarded by mu_: a disk error stops all further writes
  std::thread writer_;
};

}  // namespace dfs
