#include "namenode/raft/node.h"

#include <algorithm>
#include <filesystem>
#include <random>

#include "common/logging.h"
#include "common/rpc.h"

namespace dfs::raft {

namespace fs = std::filesystem;

namespace {
std::string LogDir(const std::string& dir) { return dir + "/raft"; }

// Takes out of `messages` those a leader may send before it persists the Ready they came
// with: its appends, heartbeats, snapshots and transfer orders promise nothing about its
// own disk, as long as the commit index they announce is already durable here (up to
// `durable`). Their acknowledgements are stepped on the loop thread only after the
// Ready is persisted, so the leader's own copy counts towards a commit only once it is
// on disk. Once one message to a peer must wait, every later one to that peer waits too
// (the order per peer is kept).
std::vector<Message> TakeEarly(std::vector<Message>& messages, uint64_t durable) {
  std::vector<Message> early, later;
  std::vector<NodeId> waiting;
  for (Message& m : messages) {
    bool leaders = m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat ||
                   m.type == MessageType::kSnapshot || m.type == MessageType::kTimeoutNow;
    bool peer_waits = std::find(waiting.begin(), waiting.end(), m.to) != waiting.end();
    if (leaders && m.commit <= durable && !peer_waits) {
      early.push_back(std::move(m));
    } else {
      if (!peer_waits) waiting.push_back(m.to);
      later.push_back(std::move(m));
    }
  }
  messages = std::move(later);
  return early;
}
}  // namespace

Status Node::Format(const std::string& dir, const std::map<NodeId, std::string>& members) {
  if (members.empty()) return InvalidArgument("a new namenode group needs at least one member");
  std::error_code ec;
  fs::create_directories(LogDir(dir), ec);
  if (ec) return Internal("cannot create " + LogDir(dir) + ": " + ec.message());
  ASSIGN_OR_RETURN(auto storage, DiskStorage::Open(LogDir(dir)));
  const PersistentState& st = storage->state();
  if (st.hard_state.term != 0 || !st.entries.empty() || !st.snapshot.membership.voters.empty()) {
    return FailedPrecondition(dir + " already holds a namenode's Raft state");
  }
  SnapshotMetadata boot;
  for (const auto& [id, address] : members) {
    if (id == 0) return InvalidArgument("namenode id 0 is reserved");
    if (address.empty()) return InvalidArgument("namenode " + std::to_string(id) + " has no address");
    boot.membership.voters.insert(id);
    boot.membership.addresses[id] = address;
  }
  return storage->SaveSnapshot(boot);
}

Node::Node(NodeOptions options) : options_(std::move(options)) {}

Node::~Node() { Stop(); }

void Node::SetLeadershipListener(std::function<void(bool, uint64_t)> fn) {
  listener_ = std::move(fn);
}

Status Node::Start(StateMachine* sm) {
  sm_ = sm;
  std::error_code ec;
  fs::create_directories(LogDir(options_.dir), ec);
  if (ec) return Internal("cannot create " + LogDir(options_.dir) + ": " + ec.message());
  ASSIGN_OR_RETURN(storage_, DiskStorage::Open(LogDir(options_.dir)));
  PersistentState st = storage_->state();
  snapshot_index_ = st.snapshot.index;
  if (st.snapshot.index > 0) {
    std::string path = options_.dir + "/snap-" + std::to_string(st.snapshot.index);
    ASSIGN_OR_RETURN(uint64_t restored, sm_->RestoreSnapshot(path));
    if (restored != st.snapshot.index) {
      return DataLoss(path + " holds the state at index " + std::to_string(restored) +
                      ", the log expects " + std::to_string(st.snapshot.index));
    }
  }
  applied_ = st.snapshot.index;

  Config cfg;
  cfg.id = options_.id;
  cfg.election_tick = options_.election_ticks;
  cfg.heartbeat_tick = 1;
  cfg.pre_vote = true;
  cfg.check_quorum = true;
  cfg.read_only = ReadOnlyOption::kLeaseBased;
  cfg.random_seed = std::random_device{}();
  addresses_ = st.snapshot.membership.addresses;
  for (const Entry& e : st.entries) {
    if (e.type != EntryType::kConfChange) continue;
    if (auto r = DecodeConfChange(e.data); r.ok()) addresses_ = r->result.addresses;
  }
  address_ = options_.address;
  if (address_.empty() && addresses_.count(options_.id)) address_ = addresses_[options_.id];
  if (address_.empty()) {
    return FailedPrecondition("namenode " + std::to_string(options_.id) +
                              " is not a member of the group in " + options_.dir +
                              "; give its Raft address to join a group");
  }
  ASSIGN_OR_RETURN(core_, RaftCore::Create(cfg, std::move(st)));

  transport_ = std::make_unique<Transport>(options_.id, address_, options_.dir,
                                           static_cast<TransportHandler*>(this));
  transport_->SetAddresses(addresses_);
  grpc::ServerBuilder builder;
  int port = 0;
  ConfigureServer(builder, address_, &port);
  builder.RegisterService(transport_->service());
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) return Unavailable("raft: cannot listen on " + address_);
  {
    std::lock_guard<std::mutex> l(mu_);
    status_.id = options_.id;
    status_.term = core_->term();
  }
  applier_ = std::thread([this] { ApplyLoop(); });
  loop_ = std::thread([this] { Loop(); });
  spdlog::info("raft node {} listening on {} (term {}, {} entries after snapshot {})", options_.id,
               address_, core_->term(), core_->log().LastIndex() - snapshot_index_,
               snapshot_index_);
  return Status::Ok();
}

void Node::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return;
    stopping_ = true;
    cv_.notify_all();
  }
  if (loop_.joinable()) loop_.join();
  {
    std::lock_guard<std::mutex> l(apply_mu_);
    apply_cv_.notify_all();
  }
  if (applier_.joinable()) applier_.join();
  // Reads still waiting for a ReadIndex round or for the apply thread (both joined).
  FailReads(&reads_in_flight_, Unavailable("namenode is shutting down"));
  FailReads(&reads_ready_, Unavailable("namenode is shutting down"));
  // The transport first: it cancels the peers' open streams, which would otherwise hold
  // the server's shutdown to its deadline.
  if (transport_) transport_->Stop();
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  FailPending(Unavailable("namenode is shutting down"));
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [entry, done] : proposals_) done(Unavailable("namenode is shutting down"));
  proposals_.clear();
  for (auto& cb : read_waiters_) cb(Unavailable("namenode is shutting down"));
  read_waiters_.clear();
}

// ---- inputs ----

std::future<Result<uint64_t>> Node::Propose(std::string entry) {
  auto p = std::make_shared<std::promise<Result<uint64_t>>>();
  auto f = p->get_future();
  ProposeAsync(std::move(entry), [p](Result<uint64_t> r) { p->set_value(std::move(r)); });
  return f;
}

void Node::ProposeAsync(std::string entry, Done done) {
  std::vector<std::pair<std::string, Done>> entries;
  entries.emplace_back(std::move(entry), std::move(done));
  ProposeAsync(std::move(entries));
}

void Node::ProposeAsync(std::vector<std::pair<std::string, Done>> entries) {
  Status refused;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!failed_.ok()) {
      refused = failed_;
    } else if (stopping_) {
      refused = Unavailable("namenode is shutting down");
    } else if (status_.role != Role::kLeader) {
      refused = Unavailable("not the leader");
    } else {
      for (auto& e : entries) proposals_.push_back(std::move(e));
      cv_.notify_one();
      return;
    }
  }
  for (auto& e : entries) e.second(refused);
}

void Node::ReadBarrier(std::function<void(Status)> done) {
  // Fast path: within the lease, once everything committed when the lease was last
  // confirmed is applied (every write acknowledged since was applied before its answer).
  int64_t until = lease_until_ns_;
  if (until != 0 && std::chrono::steady_clock::now().time_since_epoch().count() < until &&
      applied_ >= lease_commit_) {
    done(Status::Ok());
    return;
  }
  std::unique_lock<std::mutex> l(mu_);
  if (!failed_.ok() || stopping_ || status_.role != Role::kLeader) {
    Status s = !failed_.ok() ? failed_ : Unavailable("not the leader");
    l.unlock();
    done(s);
    return;
  }
  read_waiters_.push_back(std::move(done));
  cv_.notify_one();
}

void Node::OnMessages(std::vector<Message> messages) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& m : messages) inbox_.push_back(std::move(m));
  cv_.notify_one();
}

void Node::OnUnreachable(NodeId peer) {
  std::lock_guard<std::mutex> l(mu_);
  tasks_.push_back([this, peer] { core_->ReportUnreachable(peer); });
  cv_.notify_one();
}

void Node::OnSnapshotSent(NodeId peer, bool delivered) {
  std::lock_guard<std::mutex> l(mu_);
  tasks_.push_back([this, peer, delivered] { core_->ReportSnapshot(peer, delivered); });
  cv_.notify_one();
}

template <typename T>
T Node::OnLoop(std::function<T(RaftCore&)> fn) {
  auto p = std::make_shared<std::promise<T>>();
  auto f = p->get_future();
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_ || !failed_.ok()) return Unavailable("namenode is shutting down");
    tasks_.push_back([this, p, fn] { p->set_value(fn(*core_)); });
    cv_.notify_one();
  }
  return f.get();
}

// ---- the Raft loop ----

void Node::Loop() {
  using Clock = std::chrono::steady_clock;
  const auto tick = std::chrono::milliseconds(options_.tick_ms);
  auto next_tick = Clock::now() + tick;
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_ && failed_.ok()) {
    cv_.wait_until(l, next_tick, [&] {
      return stopping_ || !inbox_.empty() || !proposals_.empty() || !tasks_.empty() ||
             !read_waiters_.empty();
    });
    if (stopping_) break;
    // Ticks keep up with the clock: after a stall the missed ones are all delivered, so
    // election timers and the leader's lease measure real time (a lease must never last
    // longer than the followers wait before electing someone else).
    int ticks = 0;
    for (auto now = Clock::now(); now >= next_tick && ticks < 4 * options_.election_ticks;) {
      ++ticks;
      next_tick += tick;
    }
    if (Clock::now() >= next_tick) next_tick = Clock::now() + tick;  // hopelessly behind
    l.unlock();
    Process(ticks);
    l.lock();
  }
  // Tasks queued before the loop ended run now: OnLoop's callers (the apply thread taking
  // a snapshot, say) wait for them. No more come (OnLoop and ProposeChange refuse).
  std::vector<std::function<void()>> tasks;
  tasks.swap(tasks_);
  l.unlock();
  for (auto& task : tasks) task();
}

void Node::Process(int ticks) {
  std::vector<Message> inbox;
  std::vector<std::pair<std::string, Done>> proposals;
  std::vector<std::function<void()>> tasks;
  Callbacks reads;
  {
    std::lock_guard<std::mutex> l(mu_);
    inbox.swap(inbox_);
    proposals.swap(proposals_);
    tasks.swap(tasks_);
    reads.swap(read_waiters_);
  }
  for (int i = 0; i < ticks; ++i) core_->Tick();
  for (const Message& m : inbox) {
    Status s = core_->Step(m);
    if (!s.ok()) spdlog::warn("raft: dropped a message from node {}: {}", m.from, s.ToString());
  }
  for (auto& task : tasks) task();
  for (auto& [entry, done] : proposals) {
    auto index = core_->Propose(std::move(entry));
    if (!index.ok()) {
      done(Unavailable("not the leader: " + index.status().message()));
      continue;
    }
    std::lock_guard<std::mutex> l(pending_mu_);
    pending_.emplace(*index, Pending{core_->term(), std::move(done)});
  }
  if (!reads.empty()) {
    uint64_t id = next_read_id_++;
    Status s = core_->ReadIndex(id);
    if (s.ok()) {
      reads_in_flight_[id] = std::move(reads);
    } else {
      for (auto& cb : reads) cb(Unavailable("not the leader: " + s.message()));
    }
  }
  NoteRoleChange();
  HandleReady();
  NoteRoleChange();
  NoteLease();
}

void Node::NoteLease() {
  // Two ticks of margin: one for the tick in progress, one for delivery within a tick.
  int left = core_->LeaseTicksLeft() - 2;
  if (left <= 0) {
    lease_until_ns_ = 0;
    return;
  }
  lease_commit_ = core_->log().committed();
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(left * options_.tick_ms);
  lease_until_ns_ = until.time_since_epoch().count();
}

void Node::HandleReady() {
  while (core_->HasReady()) {
    Ready rd = core_->GetReady();
    // The leader's fdatasync and its followers' run at the same time.
    if (core_->role() == Role::kLeader) {
      std::vector<Message> early = TakeEarly(rd.messages, storage_->LastIndex());
      if (!early.empty()) transport_->Send(std::move(early));
    }
    Status s = storage_->Persist(rd);
    if (!s.ok()) {
      Fail(s);
      return;
    }
    if (!rd.messages.empty()) transport_->Send(std::move(rd.messages));
    ApplyItem item;
    item.snapshot = rd.snapshot;
    if (rd.snapshot) addresses_ = rd.snapshot->membership.addresses;
    for (const Entry& e : rd.entries) {
      if (e.type != EntryType::kConfChange) continue;
      if (auto r = DecodeConfChange(e.data); r.ok()) addresses_ = r->result.addresses;
    }
    if (rd.snapshot || !rd.entries.empty()) transport_->SetAddresses(addresses_);
    core_->Advance(rd);
    item.entries = std::move(rd.committed_entries);
    for (const ReadState& rs : rd.read_states) {
      auto it = reads_in_flight_.find(rs.request_id);
      if (it == reads_in_flight_.end()) continue;
      item.reads.emplace_back(rs.index, std::move(it->second));
      reads_in_flight_.erase(it);
    }
    if (item.snapshot || !item.entries.empty() || !item.reads.empty()) Hand(std::move(item));
  }
  std::lock_guard<std::mutex> l(mu_);
  status_.role = core_->role();
  status_.term = core_->term();
  status_.leader = core_->leader();
  status_.commit = core_->log().committed();
  status_.last_index = core_->log().LastIndex();
  status_.members.clear();
  const Membership& mem = core_->membership();
  for (NodeId id : mem.voters) status_.members.push_back({id, "", true, 0});
  for (NodeId id : mem.learners) status_.members.push_back({id, "", false, 0});
  for (auto& m : status_.members) {
    auto it = mem.addresses.find(m.id);
    if (it != mem.addresses.end()) m.address = it->second;
    if (const Progress* pr = core_->progress(m.id)) m.match = pr->match;
  }
}

void Node::Hand(ApplyItem item) {
  std::unique_lock<std::mutex> l(apply_mu_);
  // A group of one has no follower waiting for this loop, so the loop applies the item
  // itself when the apply thread is idle: one thread hand-off less per write. (In a
  // larger group a long apply, like deleting a big tree, would hold back the heartbeats
  // and start an election.) Snapshots stay on the apply thread: they need the loop.
  bool inline_apply = core_->membership().voters.size() == 1 && !item.snapshot &&
                      apply_queue_.empty() && !apply_busy_;
  if (!inline_apply) {
    apply_queue_.push_back(std::move(item));
    apply_cv_.notify_one();
    return;
  }
  apply_busy_ = true;
  l.unlock();
  ApplyItemNow(item);
  AnswerReads();
  l.lock();
  apply_busy_ = false;
  if (SnapshotDue(applied_)) {
    apply_queue_.emplace_back();  // nothing to apply: the apply thread takes the snapshot
    apply_cv_.notify_one();
  }
}

void Node::NoteRoleChange() {
  Role role = core_->role();
  uint64_t term = core_->term();
  bool was_leader = last_role_ == Role::kLeader;
  bool is_leader = role == Role::kLeader;
  if (was_leader && (!is_leader || term != last_term_)) {
    spdlog::info("raft node {}: no longer the leader (term {})", options_.id, term);
    leading_term_ = 0;
    FailPending(Unavailable("leadership changed; retry"));
    FailReads(&reads_in_flight_, Unavailable("leadership changed; retry"));
    ApplyItem item;
    item.lost_leadership = true;
    item.term = last_term_;
    std::lock_guard<std::mutex> l(apply_mu_);
    apply_queue_.push_back(std::move(item));
    apply_cv_.notify_one();
  }
  if (is_leader && (!was_leader || term != last_term_)) {
    spdlog::info("raft node {}: elected leader in term {}", options_.id, term);
    leading_term_ = term;
  }
  if (role != last_role_ || term != last_term_) {
    std::lock_guard<std::mutex> l(mu_);
    status_.role = role;
    status_.term = term;
    status_.leader = core_->leader();
  }
  last_role_ = role;
  last_term_ = term;
}

template <class ReadsByIndex>
void Node::FailReads(ReadsByIndex* reads, const Status& s) {
  for (auto& [index, cbs] : *reads) {
    for (auto& cb : cbs) cb(s);
  }
  reads->clear();
}

void Node::FailPending(const Status& s) {
  std::map<uint64_t, Pending> pending;
  {
    std::lock_guard<std::mutex> l(pending_mu_);
    pending.swap(pending_);
  }
  for (auto& [index, p] : pending) p.done(s);
}

Status Node::Fail(const Status& s) {
  spdlog::critical("raft node {}: the log cannot be written, this replica stops: {}", options_.id,
                   s.ToString());
  lease_until_ns_ = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    failed_ = s;
    status_.role = Role::kFollower;
  }
  FailPending(s);
  return s;
}

// ---- the apply thread ----

void Node::ApplyLoop() {
  while (true) {
    ApplyItem item;
    {
      std::unique_lock<std::mutex> l(apply_mu_);
      apply_cv_.wait(l, [&] { return !apply_queue_.empty() || stopping_; });
      if (apply_queue_.empty()) return;  // stopping
      item = std::move(apply_queue_.front());
      apply_queue_.pop_front();
      apply_busy_ = true;
    }
    ApplyItemNow(item);
    AnswerReads();
    MaybeSnapshot();
    std::lock_guard<std::mutex> l(apply_mu_);
    apply_busy_ = false;
  }
}

void Node::ApplyItemNow(ApplyItem& item) {
  if (item.lost_leadership) {
    if (listener_) listener_(false, item.term);
    return;
  }
  if (item.snapshot) {
    std::string path = transport_->SnapshotPath(item.snapshot->index);
    auto restored = sm_->RestoreSnapshot(path);
    if (!restored.ok()) {
      Fail(restored.status());
      return;
    }
    applied_ = item.snapshot->index;
    snapshot_index_ = item.snapshot->index;
    spdlog::info("raft node {}: state restored from the leader's snapshot at index {}",
                 options_.id, snapshot_index_);
  }
  for (const Entry& e : item.entries) {
    if (e.index <= applied_) continue;
    if (e.type == EntryType::kNormal && !e.data.empty()) sm_->Apply(e.index, e.data);
    applied_ = e.index;
    std::optional<Pending> p;
    {
      std::lock_guard<std::mutex> l(pending_mu_);
      auto it = pending_.find(e.index);
      if (it != pending_.end()) {
        p = std::move(it->second);
        pending_.erase(it);
      }
    }
    if (p) {
      if (p->term == e.term) p->done(e.index);
      else p->done(Unavailable("leadership changed; retry"));
    }
    if (e.type == EntryType::kNormal && e.data.empty() && leading_term_ == e.term && listener_) {
      listener_(true, e.term);
    }
  }
  for (auto& [index, cbs] : item.reads) reads_ready_.emplace(index, std::move(cbs));
}

void Node::AnswerReads() {
  while (!reads_ready_.empty() && reads_ready_.begin()->first <= applied_) {
    for (auto& cb : reads_ready_.begin()->second) cb(Status::Ok());
    reads_ready_.erase(reads_ready_.begin());
  }
}

void Node::MaybeSnapshot() {
  uint64_t applied = applied_;
  if (!SnapshotDue(applied)) return;
  std::string tmp = options_.dir + "/snap-saving";
  auto index = sm_->SaveSnapshot(tmp);
  if (!index.ok()) {
    spdlog::error("raft node {}: saving a snapshot: {}", options_.id, index.status().ToString());
    snapshot_index_ = applied;  // try again after another snapshot_every entries
    return;
  }
  std::error_code ec;
  fs::rename(tmp, transport_->SnapshotPath(*index), ec);
  if (ec) {
    spdlog::error("raft node {}: saving a snapshot: {}", options_.id, ec.message());
    return;
  }
  uint64_t previous = snapshot_index_;
  snapshot_index_ = *index;
  Status s = OnLoop<Status>([this, index](RaftCore& core) -> Status {
    ASSIGN_OR_RETURN(SnapshotMetadata meta, core.Compact(*index));
    return storage_->SaveSnapshot(meta);
  });
  if (!s.ok()) {
    spdlog::error("raft node {}: compacting the log at {}: {}", options_.id, *index, s.ToString());
    return;
  }
  // Older snapshots are no longer needed; one that is being streamed stays readable
  // through its open file.
  for (const auto& f : fs::directory_iterator(options_.dir, ec)) {
    std::string name = f.path().filename();
    if (name.rfind("snap-", 0) == 0 && name != "snap-" + std::to_string(*index) &&
        name != "snap-saving" && name.find("receiving") == std::string::npos) {
      fs::remove(f.path(), ec);
    }
  }
  spdlog::info("raft node {}: snapshot at index {} (previous {}); log compacted", options_.id,
               *index, previous);
}

// ---- membership and status ----

std::future<Result<uint64_t>> Node::ProposeChange(const ConfChange& change) {
  auto p = std::make_shared<std::promise<Result<uint64_t>>>();
  auto f = p->get_future();
  std::lock_guard<std::mutex> l(mu_);
  if (stopping_ || !failed_.ok()) {
    p->set_value(Unavailable("namenode is shutting down"));
    return f;
  }
  tasks_.push_back([this, p, change] {
    auto index = core_->ProposeConfChange(change);
    if (!index.ok()) {
      p->set_value(index.status());
      return;
    }
    std::lock_guard<std::mutex> l(pending_mu_);
    pending_.emplace(*index,
                     Pending{core_->term(), [p](Result<uint64_t> r) { p->set_value(std::move(r)); }});
  });
  cv_.notify_one();
  return f;
}

Status Node::AddMember(NodeId id, const std::string& address, std::chrono::milliseconds timeout) {
  if (id == 0) return InvalidArgument("namenode id 0 is reserved");
  if (address.empty()) return InvalidArgument("the new namenode's Raft address is empty");
  if (!IsLeader()) return Unavailable("not the leader");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto st = status();
  bool known = false;
  for (const auto& m : st.members) known |= m.id == id;
  if (!known) {
    auto r = ProposeChange({ConfChangeType::kAddLearner, id, address}).get();
    if (!r.ok()) return r.status();
  }
  // A learner catches up before it gets a vote, so the group never waits on it.
  while (true) {
    st = status();
    if (st.role != Role::kLeader) return Unavailable("lost leadership while adding a member");
    uint64_t match = 0;
    for (const auto& m : st.members) {
      if (m.id == id) match = m.match;
    }
    if (match + 100 >= st.commit && match > 0) break;
    if (std::chrono::steady_clock::now() > deadline) {
      return DeadlineExceeded("namenode " + std::to_string(id) + " at " + address +
                              " has not caught up (at " + std::to_string(match) + " of " +
                              std::to_string(st.commit) + "); it stays a learner");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return ProposeChange({ConfChangeType::kAddVoter, id, address}).get().status();
}

Status Node::RemoveMember(NodeId id) {
  return ProposeChange({ConfChangeType::kRemoveNode, id, ""}).get().status();
}

Status Node::TransferLeadership(NodeId id, std::chrono::milliseconds timeout) {
  RETURN_IF_ERROR(OnLoop<Status>([id](RaftCore& core) { return core.TransferLeadership(id); }));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (status().leader == id) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return DeadlineExceeded("namenode " + std::to_string(id) + " did not take over in time");
}

Status Node::Campaign() {
  return OnLoop<Status>([](RaftCore& core) { return core.Campaign(); });
}

NodeStatus Node::status() {
  std::lock_guard<std::mutex> l(mu_);
  NodeStatus s = status_;
  s.applied = applied_;
  s.snapshot_index = snapshot_index_;
  return s;
}

bool Node::IsLeader() {
  std::lock_guard<std::mutex> l(mu_);
  return status_.role == Role::kLeader && failed_.ok();
}

}  // namespace dfs::raft
