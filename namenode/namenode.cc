#include "namenode/namenode.h"

#include <random>

#include "common/logging.h"
#include "common/rpc.h"
#include "namenode/local_log.h"

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
  log_ = std::make_unique<LocalLog>(options_.dir, options_.checkpoint_every);
  RETURN_IF_ERROR(log_->Start(this));
  client_service_ = MakeClientService(this);
  datanode_service_ = MakeDatanodeService(this);
  grpc::ServerBuilder builder;
  int port = 0;
  ConfigureServer(builder, options_.address, &port);
  builder.RegisterService(client_service_.get());
  builder.RegisterService(datanode_service_.get());
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) return Unavailable("cannot listen on " + options_.address);
  monitor_ = std::thread([this] { MonitorLoop(); });
  spdlog::info("namenode serving on port {} ({} files, {} directories, {} blocks)", port,
               ns_.file_count(), ns_.directory_count(), ns_.block_count());
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
  if (log_) log_->Stop();
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
    blocks_->ComputeReplicationWork(4);
    w.unlock();
    l.unlock();
    RecoverExpiredLeases();
    l.lock();
  }
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
    ns_.ForEachFile([&](const Inode& f) {
      if (f.lease_holder.empty()) return;
      // A holder not heard from since this namenode started gets a full lease period.
      auto [it, fresh] = lease_renewed_ms_.emplace(f.lease_holder, now);
      if (fresh || now - it->second <= options_.lease_limit_ms) return;
      proto::Op op;
      auto* rl = op.mutable_recover_lease();
      rl->set_path(ns_.PathOf(f.id));
      rl->set_holder(f.lease_holder);
      if (!f.blocks.empty()) {
        // The writer's last block counts if a datanode finalized it; otherwise the bytes
        // in it were never acknowledged, and every replica of it was discarded.
        auto length = blocks_->ReportedLength(f.blocks.back().id());
        if (length && blocks_->GoodReplicas(f.blocks.back().id()) > 0) {
          rl->set_last_block_length(*length);
        } else {
          rl->set_drop_last_block(true);
        }
      }
      ops.push_back(std::move(op));
    });
  }
  for (auto& op : ops) {
    std::string path = op.recover_lease().path(), holder = op.recover_lease().holder();
    auto r = Submit(std::move(op));
    Status s = r.ok() ? r->status : r.status();
    if (s.ok()) {
      spdlog::warn("lease of {} on {} expired; file closed", holder, path);
    } else {
      spdlog::warn("recovering the lease of {} on {}: {}", holder, path, s.ToString());
    }
  }
}

Result<OpResult> Namenode::Submit(proto::Op op) {
  op.set_time_ms(clock_->WallMs());
  if (op.client_id().empty()) {
    op.set_client_id(internal_client_id_);
    op.set_call_id(next_internal_call_++);
  } else {
    std::shared_lock<std::shared_mutex> r(mu_);
    if (auto cached = retry_cache_.Get(op.client_id(), op.call_id())) return *cached;
  }
  auto applied = log_->Propose(op.SerializeAsString()).get();
  if (!applied.ok()) return applied.status();
  std::shared_lock<std::shared_mutex> r(mu_);
  auto result = retry_cache_.Get(op.client_id(), op.call_id());
  if (!result) return Internal("result of an applied operation was evicted");
  return *result;
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
  OpResult r = ns_.Apply(op);
  if (!r.removed_blocks.empty()) blocks_->RemoveBlocks(r.removed_blocks);
  retry_cache_.Put(op.client_id(), op.call_id(), r);
}

Result<uint64_t> Namenode::SaveSnapshot(const std::string& path) {
  std::shared_lock<std::shared_mutex> r(mu_);
  RETURN_IF_ERROR(ns_.SaveImage(path, last_applied_));
  return last_applied_;
}

Result<uint64_t> Namenode::RestoreSnapshot(const std::string& path) {
  std::unique_lock<std::shared_mutex> w(mu_);
  ASSIGN_OR_RETURN(uint64_t index, ns_.LoadImage(path));
  last_applied_ = index;
  return index;
}

}  // namespace dfs
