#include "namenode/namenode.h"

#include <random>

#include "common/logging.h"
#include "common/rpc.h"
#include "common/crc32c.h"

#include <fstream>
#include <sstream>

namespace dfs {

namespace {
Topology LoadTopologyOrDie(const std::string& path) {
  if (path.empty()) return Topology();
  auto t = Topology::Load(path);
  if (!t.ok()) {
    spdlog::error("{}", t.status().message());
    return Topology();
  }
  return *t;
}

std::string RandomId() {
  std::random_device rd;
  char buf[17];
  snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
  return buf;
}
}  // namespace

Namenode::Namenode(NamenodeOptions options, const Clock* clock)
    : options_(std::move(options)), clock_(clock) {
  datanodes_ = std::make_unique<DatanodeManager>(clock_, options_.dead_interval_ms,
                                                 LoadTopologyOrDie(options_.topology_file));
  blocks_ = std::make_unique<BlockManager>(&ns_, datanodes_.get());
  internal_client_id_ = "namenode-" + RandomId();
}

Namenode::~Namenode() {
  Shutdown();
  Wait();
}

Result<int> Namenode::Start() {
  raft::NodeOptions ro;
  ro.id = options_.id;
  ro.dir = options_.dir;
  ro.address = options_.raft_address;
  ro.tick_ms = options_.raft_tick_ms;
  ro.snapshot_every = options_.checkpoint_every;
  node_ = std::make_unique<raft::Node>(ro);
  node_->SetLeadershipListener([this](bool leader, uint64_t term) { OnLeadership(leader, term); });
  RETURN_IF_ERROR(node_->Start(this));
  grpc::ServerBuilder builder;
  int port = 0;
  ConfigureServer(builder, options_.address, &port);
  // One queue thread: on 2 cores two were slower (rpc-bench: 25-37 us of server CPU per
  // call against 19); it takes ~20 us a call, so ~50,000 calls/s before it is the limit.
  async_ = std::make_unique<AsyncUnaryServer>(&builder, 1);
  client_service_ = MakeClientService(this, async_.get());
  datanode_service_ = MakeDatanodeService(this);
  builder.RegisterService(client_service_.get());
  builder.RegisterService(datanode_service_.get());
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) return Unavailable("cannot listen on " + options_.address);
  async_->Start();
  monitor_ = std::thread([this] { MonitorLoop(); });
  spdlog::info("namenode {} serving on port {} ({} files, {} directories, {} blocks)",
               options_.id, port, ns_.file_count(), ns_.directory_count(), ns_.block_count());
  return port;
}

void Namenode::Shutdown() {
  {
    std::lock_guard<std::mutex> l(stop_mu_);
    if (stopping_) return;
    stopping_ = true;
    stop_cv_.notify_all();
  }
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  if (node_) node_->Stop();  // answers the calls still waiting for the log
  if (async_) async_->Shutdown();
}

void Namenode::Wait() {
  if (monitor_.joinable()) monitor_.join();
  if (server_) server_->Wait();
}

void Namenode::MonitorLoop() {
  std::unique_lock<std::mutex> l(stop_mu_);
  while (!stop_cv_.wait_for(l, std::chrono::seconds(1), [this] { return stopping_; })) {
    std::unique_lock<std::shared_mutex> w(mu_);
    for (DatanodeState* dn : datanodes_->CheckDead()) blocks_->DatanodeDead(dn);
    bool decide = IsLeader() && (CheckSafeMode(), !safe_mode_.on);
    if (decide) blocks_->ComputeReplicationWork(options_.replication_streams);
    w.unlock();
    l.unlock();
    if (decide) RecoverExpiredLeases();
    l.lock();
  }
}

void Namenode::OnLeadership(bool leader, uint64_t term) {
  if (!leader) {
    std::unique_lock<std::shared_mutex> w(mu_);
    leader_term_ = 0;
    blocks_->SetTracking(false);
    spdlog::info("namenode {}: follower (term {})", options_.id, term);
    return;
  }
  {
    // Writers' lease timers start again on the new leader.
    std::lock_guard<std::mutex> l(lease_mu_);
    lease_renewed_ms_.clear();
    recoveries_.clear();
  }
  std::unique_lock<std::shared_mutex> w(mu_);
  safe_mode_.on = true;
  safe_mode_.manual = false;
  safe_mode_next_check_ = {};
  leader_term_ = term;
  blocks_->SetTracking(true);
  CheckSafeMode();
  spdlog::info("namenode {}: leader in term {}{}", options_.id, term,
               safe_mode_.on ? ", in safe mode until blocks are reported" : "");
}

void Namenode::CheckSafeMode() {
  if (!safe_mode_.on) return;
  // The count walks every block under the lock: with millions of them it runs at most a
  // tenth of the time (every second while it takes under 100 ms).
  const auto start = std::chrono::steady_clock::now();
  if (start < safe_mode_next_check_) return;
  uint64_t total = 0, reported = 0;
  ns_.ForEachFile([&](const Inode& f) {
    for (const auto& b : f.blocks) {
      if (f.BeingWritten(b.id())) continue;
      ++total;
      if (blocks_->GoodReplicas(b.id()) > 0) ++reported;
    }
  });
  safe_mode_.blocks_total = total;
  safe_mode_.blocks_reported = reported;
  safe_mode_next_check_ = start + 10 * (std::chrono::steady_clock::now() - start);
  if (safe_mode_.manual) return;
  if (total == 0 || static_cast<double>(reported) >= options_.safe_mode_threshold * total) {
    safe_mode_.on = false;
    spdlog::info("namenode {}: leaving safe mode ({} of {} blocks reported)", options_.id,
                 reported, total);
  }
}

SafeModeState Namenode::GetSafeMode() {
  std::unique_lock<std::shared_mutex> w(mu_);
  CheckSafeMode();
  return safe_mode_;
}

Status Namenode::SetSafeMode(bool on) {
  if (!IsLeader()) return Unavailable("not the leader");
  std::unique_lock<std::shared_mutex> w(mu_);
  safe_mode_.on = on;
  safe_mode_.manual = on;
  safe_mode_next_check_ = {};
  spdlog::warn("namenode {}: safe mode {} by an operator", options_.id, on ? "entered" : "left");
  return Status::Ok();
}

Status Namenode::ReadBarrier() {
  std::promise<Status> p;
  auto f = p.get_future();
  node_->ReadBarrier([&p](Status s) { p.set_value(s); });
  return f.get();
}

void Namenode::ReadBarrierAsync(std::function<void(Status)> done) {
  node_->ReadBarrier(std::move(done));
}

Result<std::pair<std::string, uint64_t>> Namenode::Digest() {
  std::string path = options_.dir + "/digest-" + RandomId();
  uint64_t index = 0;
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    index = last_applied_;
    RETURN_IF_ERROR(ns_.SaveImage(path, index, retry_cache_.Save()));
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  std::remove(path.c_str());
  std::string data = buf.str();
  // Two CRC32Cs (of the image and of it reversed) make a 64-bit digest: enough to tell
  // replicas apart in tests and by operators.
  std::string rev(data.rbegin(), data.rend());
  char hex[32];
  snprintf(hex, sizeof hex, "%08x%08x", Crc32c(data.data(), data.size()),
           Crc32c(rev.data(), rev.size()));
  return std::make_pair(std::string(hex), index);
}

void Namenode::RenewLease(const std::string& client) {
  std::lock_guard<std::mutex> l(lease_mu_);
  lease_renewed_ms_[client] = clock_->NowMs();
}

void Namenode::RecoverExpiredLeases() {
  std::vector<proto::Op> ops;
  int64_t now = clock_->NowMs();
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    std::lock_guard<std::mutex> l(lease_mu_);
    ns_.ForEachOpenFile([&](const Inode& f) {
      // A holder not heard from since this namenode started gets a full lease period.
      auto [it, fresh] = lease_renewed_ms_.emplace(f.lease_holder, now);
      if (fresh || now - it->second <= options_.lease_limit_ms) return;
      std::optional<proto::Op> op;
      if (f.blocks.empty()) {
        op.emplace();
      } else {
        op = RecoverLastBlock(f, now);
      }
      if (!op) return;
      op->mutable_recover_lease()->set_path(ns_.PathOf(f.id));
      op->mutable_recover_lease()->set_holder(f.lease_holder);
      ops.push_back(std::move(*op));
    });
  }
  for (auto& op : ops) {
    proto::RecoverLeaseOp rl = op.recover_lease();
    auto r = Submit(std::move(op));
    Status s = r.ok() ? r->status : r.status();
    if (!s.ok()) {
      spdlog::warn("recovering the lease of {} on {}: {}", rl.holder(), rl.path(), s.ToString());
      continue;
    }
    if (rl.bump_generation_stamp()) {
      StartBlockRecovery(r->block.id(), r->block);
      continue;
    }
    if (rl.last_block_generation_stamp() != 0) {
      FinishBlockRecovery(r->block.id(), rl.last_block_length());
    }
    if (rl.drop_last_block()) {
      spdlog::warn("lease of {} on {} expired; file closed without its last block (no "
                   "replica holds any of it)", rl.holder(), rl.path());
    } else {
      spdlog::warn("lease of {} on {} expired; file closed with its last block at {} bytes",
                   rl.holder(), rl.path(), rl.last_block_length());
    }
  }
}

namespace {
// What every replica holds: the shortest of their lengths (lengths is not empty).
uint64_t Shortest(const std::map<std::string, uint64_t>& lengths) {
  uint64_t length = UINT64_MAX;
  for (const auto& [uuid, bytes] : lengths) length = std::min(length, bytes);
  return length;
}

void QueueRecover(DatanodeState* dn, const proto::Block& block, uint64_t new_generation_stamp) {
  proto::DatanodeCommand cmd;
  *cmd.mutable_recover()->mutable_block() = block;
  cmd.mutable_recover()->set_new_generation_stamp(new_generation_stamp);
  dn->commands.push_back(std::move(cmd));
}
}  // namespace

std::optional<proto::Op> Namenode::RecoverLastBlock(const Inode& f, int64_t now) {
  const proto::Block& last = f.blocks.back();
  proto::Op op;
  auto* rl = op.mutable_recover_lease();
  auto [it, fresh] = recoveries_.try_emplace(last.id());
  BlockRecovery& rec = it->second;
  if (fresh) rec.started_ms = now;
  if (rec.generation_stamp != 0 && rec.generation_stamp == last.generation_stamp()) {
    // Recovering: close once every live holder reported its replica with the new stamp
    // (or, after a while, those that did), at the length they all hold.
    auto lengths = blocks_->ReplicaLengths(last.id());
    bool all = true;
    for (const auto& uuid : rec.holders) {
      const DatanodeState* dn = datanodes_->Find(uuid);
      if (dn && dn->live && !lengths.count(uuid)) all = false;
    }
    if (!lengths.empty() && (all || now - rec.started_ms > 10'000)) {
      uint64_t length = Shortest(lengths);
      rl->set_last_block_length(length);
      rl->set_drop_last_block(length == 0);  // nothing of it reached every datanode
      rl->set_last_block_generation_stamp(rec.generation_stamp);
      return op;
    }
    if (now - rec.commands_sent_ms > 3'000) {
      for (const auto& uuid : rec.holders) {
        DatanodeState* dn = datanodes_->Find(uuid);
        if (dn && dn->live && !lengths.count(uuid)) QueueRecover(dn, last, rec.generation_stamp);
      }
      rec.commands_sent_ms = now;
    }
    if (lengths.empty() && now - rec.started_ms > options_.lease_limit_ms) recoveries_.erase(it);
    return std::nullopt;
  }
  if (!blocks_->Unfinished(last.id()).empty()) {
    rl->set_bump_generation_stamp(true);
    return op;
  }
  auto lengths = blocks_->ReplicaLengths(last.id());
  if (!lengths.empty()) {
    // Every replica was finalized (the writer died before closing the file).
    rl->set_last_block_length(Shortest(lengths));
    recoveries_.erase(it);
    return op;
  }
  // No replica reported: wait for datanodes that are down, and for those still noticing
  // that their writer is gone; drop the block only if nobody ever held any of it.
  if (blocks_->AnyUnfinished(last.id()) || now - rec.started_ms < options_.lease_limit_ms) {
    return std::nullopt;
  }
  rl->set_drop_last_block(true);
  recoveries_.erase(it);
  return op;
}

void Namenode::StartBlockRecovery(uint64_t block_id, const proto::Block& bumped) {
  std::unique_lock<std::shared_mutex> w(mu_);
  std::lock_guard<std::mutex> l(lease_mu_);
  BlockRecovery& rec = recoveries_[block_id];
  rec.generation_stamp = bumped.generation_stamp();
  rec.started_ms = rec.commands_sent_ms = clock_->NowMs();
  rec.holders.clear();
  for (const auto& [uuid, bytes] : blocks_->Unfinished(block_id)) rec.holders.insert(uuid);
  for (const auto* dn : blocks_->Locations(block_id)) rec.holders.insert(dn->id.uuid());
  blocks_->ForgetReplicas(block_id);
  for (const auto& uuid : rec.holders) {
    QueueRecover(datanodes_->Find(uuid), bumped, bumped.generation_stamp());
  }
  spdlog::warn("recovering block {} on {} datanode(s) with generation stamp {}", block_id,
               rec.holders.size(), rec.generation_stamp);
}

void Namenode::FinishBlockRecovery(uint64_t block_id, uint64_t length) {
  std::unique_lock<std::shared_mutex> w(mu_);
  std::lock_guard<std::mutex> l(lease_mu_);
  recoveries_.erase(block_id);
  // Replicas that hold more than every replica agreed on are replaced from the others.
  for (const auto& [uuid, bytes] : blocks_->ReplicaLengths(block_id)) {
    if (bytes != length) blocks_->MarkCorrupt(block_id, uuid);
  }
}

Result<OpResult> Namenode::Submit(proto::Op op) {
  std::promise<Result<OpResult>> p;
  auto f = p.get_future();
  SubmitAsync(std::move(op), [&p](Result<OpResult> r) { p.set_value(std::move(r)); });
  return f.get();
}

void Namenode::SubmitAsync(proto::Op op, std::function<void(Result<OpResult>)> done) {
  std::vector<Submission> subs;
  subs.push_back({std::move(op), std::move(done)});
  SubmitAsync(std::move(subs));
}

void Namenode::SubmitAsync(std::vector<Submission> subs) {
  if (!IsLeader()) {
    for (auto& s : subs) s.done(Unavailable("namenode is not the leader"));
    return;
  }
  std::vector<std::pair<std::string, raft::Node::Done>> entries;
  for (auto& [op, done] : subs) {
    op.set_time_ms(clock_->WallMs());
    if (op.client_id().empty()) {
      op.set_client_id(internal_client_id_);
      op.set_call_id(next_internal_call_++);
    } else if (auto cached = CachedResult(op)) {
      done(*cached);
      continue;
    }
    // Answers with the result Apply left in the retry cache.
    auto applied = [this, client = op.client_id(), call = op.call_id(),
                    done = std::move(done)](Result<uint64_t> index) {
      if (!index.ok()) return done(index.status());
      std::optional<OpResult> result;
      {
        std::shared_lock<std::shared_mutex> r(mu_);
        result = retry_cache_.Get(client, call);
      }
      if (!result) return done(Internal("result of an applied operation was evicted"));
      done(std::move(*result));
    };
    entries.emplace_back(op.SerializeAsString(), std::move(applied));
  }
  if (!entries.empty()) node_->ProposeAsync(std::move(entries));
}

std::optional<OpResult> Namenode::CachedResult(const proto::Op& op) {
  if (op.client_id().empty()) return std::nullopt;
  std::shared_lock<std::shared_mutex> r(mu_);
  return retry_cache_.Get(op.client_id(), op.call_id());
}

void Namenode::WithReadLock(const std::function<void(const NamenodeState&)>& fn) {
  std::shared_lock<std::shared_mutex> r(mu_);
  fn({ns_, *blocks_, *datanodes_, options_});
}

void Namenode::WithWriteLock(const std::function<void(const NamenodeState&)>& fn) {
  std::unique_lock<std::shared_mutex> w(mu_);
  fn({ns_, *blocks_, *datanodes_, options_});
}

void Namenode::Apply(uint64_t index, const std::string& entry) {
  proto::Op op;
  std::unique_lock<std::shared_mutex> w(mu_);
  last_applied_ = index;
  if (!op.ParseFromString(entry)) {
    spdlog::error("log entry {} is not an operation; skipped", index);
    return;
  }
  // A call retried after a failover may be in the log twice (the first copy committed
  // under the old leader, unseen by the new one when the retry arrived): only the first
  // copy counts, on every replica alike.
  if (!op.client_id().empty() && retry_cache_.Get(op.client_id(), op.call_id())) return;
  OpResult r = ns_.Apply(op);
  if (!r.removed_blocks.empty()) blocks_->RemoveBlocks(r.removed_blocks);
  if (op.has_set_decommission()) {
    datanodes_->SetOutOfService(ns_.decommissioned());
    blocks_->RecheckAll();
  }
  if (r.status.ok() && op.has_add_block()) {
    auto f = ns_.GetFile(op.add_block().path());
    if (f.ok() && (*f)->blocks.size() >= 2) {
      blocks_->BlockCompleted((*f)->blocks[(*f)->blocks.size() - 2].id());
    }
  }
  if (r.status.ok() && op.has_set_replication()) {
    auto f = ns_.GetFile(op.set_replication().path());
    if (f.ok()) blocks_->FileChanged(**f);
  }
  if (r.status.ok() && (op.has_complete() || (op.has_recover_lease() &&
                                              !op.recover_lease().bump_generation_stamp()))) {
    auto f = ns_.GetFile(op.has_complete() ? op.complete().path() : op.recover_lease().path());
    if (f.ok() && !(*f)->blocks.empty()) blocks_->FileClosed((*f)->blocks.back());
  }
  retry_cache_.Put(op.client_id(), op.call_id(), op.time_ms(), r);
}

Result<uint64_t> Namenode::SaveSnapshot(const std::string& path) {
  std::shared_lock<std::shared_mutex> r(mu_);
  RETURN_IF_ERROR(ns_.SaveImage(path, last_applied_, retry_cache_.Save()));
  return last_applied_;
}

Result<uint64_t> Namenode::RestoreSnapshot(const std::string& path) {
  std::unique_lock<std::shared_mutex> w(mu_);
  std::vector<std::string> extra;
  ASSIGN_OR_RETURN(uint64_t index, ns_.LoadImage(path, &extra));
  RETURN_IF_ERROR(retry_cache_.Load(extra));
  datanodes_->SetOutOfService(ns_.decommissioned());
  blocks_->RecheckAll();
  last_applied_ = index;
  return index;
}

}  // namespace dfs
