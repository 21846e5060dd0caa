#include "datanode/datanode.h"

#include "client/block_writer.h"
#include "common/crc32c.h"
#include "common/logging.h"
#include "common/rpc.h"

namespace dfs {

namespace {
enum ReportKind { kReceived, kDeleted, kCorrupt, kUnfinished };
constexpr int64_t kRpcTimeoutMs = 10'000;

std::unique_ptr<grpc::ClientContext> RpcContext() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(kRpcTimeoutMs));
  return ctx;
}
}  // namespace

Datanode::~Datanode() { Stop(); }

Result<uint16_t> Datanode::Start() {
  ASSIGN_OR_RETURN(store_, BlockStore::Open(options_.data_dirs, options_.max_failed_volumes));
  DataTransferHooks hooks;
  hooks.block_received = [this](const proto::Block& b) { QueueReport(b, kReceived); };
  hooks.replica_corrupt = [this](const proto::Block& b) { QueueReport(b, kCorrupt); };
  hooks.replica_unfinished = [this](const proto::Block& b) { QueueReport(b, kUnfinished); };
  server_ = std::make_unique<DataTransferServer>(store_.get(), hooks);
  ASSIGN_OR_RETURN(uint16_t port, server_->Start(options_.host, options_.data_port));
  id_.set_uuid(store_->uuid());
  id_.set_host(options_.host);
  id_.set_data_port(port);
  if (options_.namenodes.empty()) return InvalidArgument("no namenode to report to");
  for (const auto& address : options_.namenodes) {
    auto a = std::make_unique<Actor>();
    a->address = address;
    a->stub = proto::DatanodeProtocol::NewStub(MakeChannel(address));
    actors_.push_back(std::move(a));
  }
  for (auto& a : actors_) a->thread = std::thread([this, p = a.get()] { ReportLoop(p); });
  scanner_ = std::make_unique<BlockScanner>(store_.get(), options_.scan_bytes_per_second,
                                            options_.scan_period_ms,
                                            [this](const proto::Block& b) {
                                              QueueReport(b, kCorrupt);
                                            });
  scanner_->Start();
  volume_checker_ = std::thread([this] { VolumeCheckLoop(); });
  spdlog::info("datanode {} serving blocks on {}:{}", id_.uuid(), options_.host, port);
  return port;
}

void Datanode::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return;
    stopping_ = true;
    cv_.notify_all();
  }
  if (scanner_) scanner_->Stop();
  if (volume_checker_.joinable()) volume_checker_.join();
  for (auto& a : actors_) {
    if (a->thread.joinable()) a->thread.join();
  }
  if (server_) server_->Stop();
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, std::chrono::seconds(5), [&] { return replications_running_ == 0; });
}

void Datanode::VolumeCheckLoop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!cv_.wait_for(l, std::chrono::seconds(2), [this] { return stopping_; })) {
    l.unlock();
    auto lost = store_->CheckVolumes();
    if (lost.ok()) {
      if (!lost->empty()) spdlog::warn("{} replicas lost with a failed volume", lost->size());
      for (const auto& b : *lost) QueueReport(b, kDeleted);
    } else {
      spdlog::error("datanode cannot go on: {}", lost.status().message());
      if (options_.on_fatal) options_.on_fatal(lost.status());
      return;
    }
    l.lock();
  }
}

void Datanode::QueueReport(const proto::Block& b, int kind) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& a : actors_) {
    if (kind == kReceived) *a->pending.add_received() = b;
    if (kind == kDeleted) *a->pending.add_deleted() = b;
    if (kind == kCorrupt) *a->pending.add_corrupt() = b;
    if (kind == kUnfinished) *a->pending.add_unfinished() = b;
  }
  cv_.notify_all();
}

Status Datanode::RegisterAndReport(Actor* a) {
  proto::RegisterRequest reg;
  *reg.mutable_id() = id_;
  *reg.mutable_storage() = store_->Storage();
  proto::RegisterResponse reg_resp;
  RETURN_IF_ERROR(FromGrpc(a->stub->Register(RpcContext().get(), reg, &reg_resp)));
  {
    // Everything pending is covered by the full report.
    std::lock_guard<std::mutex> l(mu_);
    a->pending.clear_received();
    a->pending.clear_deleted();
    a->pending.clear_unfinished();
  }
  proto::BlockReportRequest report;
  report.set_uuid(id_.uuid());
  for (auto& b : store_->Report()) *report.add_blocks() = std::move(b);
  for (auto& b : store_->ReportUnfinished()) *report.add_unfinished() = std::move(b);
  proto::BlockReportResponse resp;
  RETURN_IF_ERROR(FromGrpc(a->stub->BlockReport(RpcContext().get(), report, &resp)));
  if (leader_filter_.Accept(resp.leader(), resp.term())) {
    for (const auto& c : resp.commands()) Execute(c);
  }
  spdlog::info("registered with namenode {} and reported {} replicas", a->address,
               report.blocks_size());
  return Status::Ok();
}

void Datanode::ReportLoop(Actor* a) {
  bool registered = false;
  auto next_heartbeat = std::chrono::steady_clock::now();
  for (;;) {
    proto::BlockReceivedAndDeletedRequest incremental;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_until(l, next_heartbeat, [&] {
        return stopping_ || (registered && (a->pending.received_size() ||
                                            a->pending.deleted_size() ||
                                            a->pending.corrupt_size() ||
                                            a->pending.unfinished_size()));
      });
      if (stopping_) return;
      if (registered) incremental.Swap(&a->pending);
    }
    if (!registered) {
      Status s = RegisterAndReport(a);
      if (!s.ok()) {
        spdlog::warn("cannot register with namenode {}: {}", a->address, s.message());
        next_heartbeat = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        continue;
      }
      registered = true;
    }
    if (incremental.received_size() || incremental.deleted_size() || incremental.corrupt_size() ||
        incremental.unfinished_size()) {
      incremental.set_uuid(id_.uuid());
      proto::BlockReceivedAndDeletedResponse resp;
      Status s =
          FromGrpc(a->stub->BlockReceivedAndDeleted(RpcContext().get(), incremental, &resp));
      if (!s.ok()) {
        spdlog::warn("incremental block report failed: {}", s.message());
        registered = s.code() != Code::kFailedPrecondition;
        std::lock_guard<std::mutex> l(mu_);
        a->pending.MergeFrom(incremental);
        next_heartbeat = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        continue;
      }
    }
    if (std::chrono::steady_clock::now() < next_heartbeat) continue;
    next_heartbeat = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(options_.heartbeat_interval_ms);
    proto::HeartbeatRequest hb;
    hb.set_uuid(id_.uuid());
    *hb.mutable_storage() = store_->Storage();
    hb.set_active_transfers(server_->active_transfers());
    hb.set_interval_ms(options_.heartbeat_interval_ms);
    proto::HeartbeatResponse resp;
    Status s = FromGrpc(a->stub->Heartbeat(RpcContext().get(), hb, &resp));
    if (!s.ok()) {
      spdlog::warn("heartbeat to {} failed: {}", a->address, s.message());
      continue;
    }
    bool obey = leader_filter_.Accept(resp.leader(), resp.term());
    for (const auto& c : resp.commands()) {
      if (c.has_reregister()) {
        registered = false;
      } else if (obey) {
        Execute(c);
      } else {
        spdlog::warn("ignoring a command from {}, which is not the current leader", a->address);
      }
    }
  }
}

void Datanode::Execute(const proto::DatanodeCommand& cmd) {
  if (cmd.has_delete_()) {
    for (const auto& b : cmd.delete_().blocks()) {
      Status s = store_->Delete(b.id(), b.generation_stamp() ? b.generation_stamp() : UINT64_MAX);
      if (s.ok() || s.code() == Code::kNotFound) QueueReport(b, kDeleted);
    }
  } else if (cmd.has_recover()) {
    const auto& r = cmd.recover();
    auto done = store_->Recover(r.block().id(), r.new_generation_stamp());
    if (!done.ok()) {
      spdlog::warn("recovering block {}: {}", r.block().id(), done.status().message());
      return;
    }
    spdlog::info("recovered block {} at {} bytes, generation stamp {}", done->id,
                 done->num_bytes, done->generation_stamp);
    proto::Block b;
    b.set_id(done->id);
    b.set_generation_stamp(done->generation_stamp);
    b.set_num_bytes(done->num_bytes);
    QueueReport(b, kReceived);
  } else if (cmd.has_replicate()) {
    std::vector<proto::DatanodeId> targets(cmd.replicate().targets().begin(),
                                           cmd.replicate().targets().end());
    std::lock_guard<std::mutex> l(mu_);
    ++replications_running_;
    std::thread([this, b = cmd.replicate().block(), t = std::move(targets)] {
      Replicate(b, t);
      std::lock_guard<std::mutex> l(mu_);
      --replications_running_;
      cv_.notify_all();
    }).detach();
  }
}

void Datanode::Replicate(proto::Block block, std::vector<proto::DatanodeId> targets) {
  auto info = store_->Find(block.id(), block.generation_stamp());
  if (!info.ok() || targets.empty()) return;
  auto reader = store_->OpenReader(*info);
  if (!reader.ok()) return;
  block.set_generation_stamp(info->generation_stamp);
  auto writer = BlockWriter::Open(block, targets, "datanode-" + id_.uuid());
  if (!writer.ok()) {
    spdlog::warn("replicating block {}: {}", block.id(), writer.status().message());
    return;
  }
  std::vector<char> data(kPacketBytes);
  std::vector<uint32_t> crcs(ChunkCount(kPacketBytes));
  for (uint64_t pos = 0; pos < info->num_bytes;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kPacketBytes, info->num_bytes - pos));
    Status s = (*reader)->Read(pos, n, data.data(), crcs.data());
    if (s.code() == Code::kDataLoss) QueueReport(block, kCorrupt);
    if (s.ok()) s = (*writer)->WritePacket(data.data(), n, crcs.data());
    if (!s.ok()) {
      spdlog::warn("replicating block {}: {}", block.id(), s.message());
      return;
    }
    pos += n;
  }
  auto done = (*writer)->Close();
  if (!done.ok()) {
    spdlog::warn("replicating block {}: {}", block.id(), done.status().message());
    return;
  }
  spdlog::info("replicated block {} to {} datanode(s)", block.id(), targets.size());
}

}  // namespace dfs
