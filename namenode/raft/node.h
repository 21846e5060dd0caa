// Node: one replica of a Raft group, doing the I/O around a RaftCore. It keeps the log
// in a DiskStorage, talks to its peers through a Transport on its own gRPC port, ticks
// the core on a real clock, and drives a StateMachine.
//
// Threads: the Raft loop owns the core and the storage (ticks, steps messages,
// proposals and reads, persists each Ready, hands its messages to the transport); the
// apply thread applies committed entries in log order, restores received snapshots,
// answers reads, and saves a snapshot every `snapshot_every` entries (the log is then
// compacted behind it). Callbacks (Apply, ReadBarrier callbacks, the leadership
// listener) all run on the apply thread, in log order; in a group of one, the loop
// applies what it committed itself while the apply thread is idle (one hand-off less),
// so there callbacks may also run on the loop, never at the same time.
//
// Proposals: Propose resolves once the entry is applied here, or with Unavailable when
// this node is not the leader or loses leadership before then (the entry may still
// commit: callers retry with an idempotent call id). A leader change is announced to
// the listener only once the new leader has applied every entry of earlier terms
// (its term's first entry), so a listener sees a state machine that is up to date.
//
// Bootstrap: a new group is formatted on each of its first members with the same
// member list; a node that joins later starts with an empty directory and learns the
// group from the leader after `AddMember` on the leader.
//
// Thread safety: thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "common/status.h"
#include "namenode/raft/core.h"
#include "namenode/raft/disk_storage.h"
#include "namenode/raft/transport.h"
#include "namenode/raft/state_machine.h"

namespace dfs::raft {

struct NodeOptions {
  NodeId id = 0;
  std::string dir;      // log, hard state and snapshots
  // Where the transport listens, host:port. Empty: this node's address in the
  // membership (a node joining a group must give it).
  std::string address;
  int tick_ms = 100;
  int election_ticks = 10;          // election timeout, in ticks
  uint64_t snapshot_every = 100'000;  // applied entries between snapshots
};

struct MemberStatus {
  NodeId id = 0;
  std::string address;
  bool voter = false;
  uint64_t match = 0;  // leader's view; 0 elsewhere
};

struct NodeStatus {
  NodeId id = 0;
  Role role = Role::kFollower;
  uint64_t term = 0;
  NodeId leader = 0;
  uint64_t commit = 0;
  uint64_t applied = 0;
  uint64_t last_index = 0;
  uint64_t snapshot_index = 0;
  std::vector<MemberStatus> members;
};

class Node : private TransportHandler {
 public:
  // Writes the initial state of a new group (members: id -> transport address) into
  // dir. FailedPrecondition if dir already holds a Raft state.
  static Status Format(const std::string& dir, const std::map<NodeId, std::string>& members);

  explicit Node(NodeOptions options);
  ~Node() override;

  // Recovers the state machine (snapshot, then the log after it, applied as the group
  // commits it) and starts taking part in the group. DataLoss if the log is damaged.
  Status Start(StateMachine* sm);
  // Appends entry; resolves with its index once it is committed and applied here.
  std::future<Result<uint64_t>> Propose(std::string entry);
  // The same with a callback, run on the apply thread once the entry is applied (or on
  // another thread, or at once, with the error).
  using Done = std::function<void(Result<uint64_t>)>;
  void ProposeAsync(std::string entry, Done done);
  // Several at once: the loop takes them together (one log write).
  void ProposeAsync(std::vector<std::pair<std::string, Done>> entries);
  void Stop();

  // Calls done(Ok) once this node's state machine reflects every entry committed
  // before the call (ReadIndex), or done(Unavailable) if this node is not the leader
  // or loses leadership first. Concurrent calls share one ReadIndex round.
  void ReadBarrier(std::function<void(Status)> done);

  // Called on the apply thread: (true, term) once this node leads and is up to date;
  // (false, term) when it stops leading. Set before Start.
  void SetLeadershipListener(std::function<void(bool leader, uint64_t term)> fn);

  // Membership (leader only). AddMember adds a learner, waits until it has caught up,
  // then makes it a voter. RemoveMember removes a voter or learner; removing the leader
  // makes it step down.
  Status AddMember(NodeId id, const std::string& address, std::chrono::milliseconds timeout);
  Status RemoveMember(NodeId id);
  // Hands leadership to `id` and waits (up to timeout) until it has it.
  Status TransferLeadership(NodeId id, std::chrono::milliseconds timeout);
  // Starts an election at once (a faster start for a new group).
  Status Campaign();

  NodeStatus status();
  bool IsLeader();
  NodeId id() const { return options_.id; }
  // Test hook: cuts this node off from every other (see Transport::SetCut).
  void SetCut(bool cut) { transport_->SetCut(cut); }
  bool cut() const { return transport_->cut(); }

 private:
  struct Pending {
    uint64_t term;
    Done done;
  };
  struct ApplyItem {
    std::optional<SnapshotMetadata> snapshot;  // restore this snapshot first
    std::vector<Entry> entries;
    std::vector<std::pair<uint64_t, std::vector<std::function<void(Status)>>>> reads;
    bool lost_leadership = false;  // in `term`
    uint64_t term = 0;
  };
  using Callbacks = std::vector<std::function<void(Status)>>;

  // TransportHandler.
  void OnMessages(std::vector<Message> messages) override;
  void OnUnreachable(NodeId peer) override;
  void OnSnapshotSent(NodeId peer, bool delivered) override;

  void Loop();
  // Runs `ticks` ticks and one batch of inputs through the core and handles every
  // Ready. REQUIRES: the loop thread, mu_ not held.
  void Process(int ticks);
  // Records until when reads may be answered at once from this leader's state.
  void NoteLease();
  void HandleReady();
  // Hands committed entries, reads and snapshots to the apply thread (or applies them).
  void Hand(ApplyItem item);
  void NoteRoleChange();
  void FailPending(const Status& s);
  // Answers every read callback in reads (index -> callbacks) with s and empties it.
  template <class ReadsByIndex>
  static void FailReads(ReadsByIndex* reads, const Status& s);
  // Enough entries applied since the last snapshot for another.
  bool SnapshotDue(uint64_t applied) const {
    return applied - snapshot_index_ >= options_.snapshot_every;
  }
  std::future<Result<uint64_t>> ProposeChange(const ConfChange& change);
  // Runs fn on the loop thread with the core and waits for it.
  template <typename T>
  T OnLoop(std::function<T(RaftCore&)> fn);

  void ApplyLoop();
  void ApplyItemNow(ApplyItem& item);
  void AnswerReads();
  void MaybeSnapshot();
  Status Fail(const Status& s);

  const NodeOptions options_;
  std::string address_;  // where the transport listens
  StateMachine* sm_ = nullptr;
  std::function<void(bool, uint64_t)> listener_;
  std::unique_ptr<DiskStorage> storage_;  // loop thread
  std::unique_ptr<RaftCore> core_;        // loop thread
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<grpc::Server> server_;

  // Inputs to the loop, guarded by mu_.
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  Status failed_;
  std::vector<Message> inbox_;
  std::vector<std::pair<std::string, Done>> proposals_;
  std::vector<std::function<void()>> tasks_;  // run on the loop thread with mu_ released
  Callbacks read_waiters_;
  NodeStatus status_;  // the loop's latest view
  std::map<NodeId, std::string> addresses_;

  // Loop-thread state.
  uint64_t next_read_id_ = 1;
  std::map<uint64_t, Callbacks> reads_in_flight_;
  Role last_role_ = Role::kFollower;
  uint64_t last_term_ = 0;

  // Proposals awaiting their entry, by index (loop adds, apply resolves).
  std::mutex pending_mu_;
  std::map<uint64_t, Pending> pending_;

  // Apply thread.
  std::mutex apply_mu_;
  std::condition_variable apply_cv_;
  std::deque<ApplyItem> apply_queue_;  // guarded by apply_mu_
  // An item is being applied, by the apply thread or by the loop (see Hand).
  bool apply_busy_ = false;  // guarded by apply_mu_
  std::multimap<uint64_t, Callbacks> reads_ready_;  // apply thread: index -> callbacks
  std::atomic<uint64_t> applied_{0};
  std::atomic<uint64_t> snapshot_index_{0};  // written by the apply thread
  std::atomic<uint64_t> leading_term_{0};  // term this node leads in, 0 if none
  // Lease reads: until lease_until_ns_ (steady clock), a read is linearizable once
  // applied_ >= lease_commit_ (written before lease_until_ns_).
  std::atomic<uint64_t> lease_commit_{0};
  std::atomic<int64_t> lease_until_ns_{0};

  std::thread loop_;
  std::thread applier_;
};

}  // namespace dfs::raft
