// The DatanodeProtocol gRPC service: registrations, heartbeats and block reports update
// the soft state; heartbeat answers carry the commands queued for the datanode.
#include <algorithm>
#include <unordered_set>

#include "common/logging.h"
#include "common/rpc.h"
#include "namenode/namenode.h"
#include "proto/datanode.grpc.pb.h"

namespace dfs {

namespace {

constexpr size_t kMaxCommandsPerHeartbeat = 64;
constexpr int kMaxBlocksPerReport = 10'000'000;
constexpr int kReportSlice = 10'000;  // blocks of a full report per hold of the lock
constexpr int64_t kMaxHeartbeatIntervalMs = 3'600'000;

class DatanodeService final : public proto::DatanodeProtocol::Service {
 public:
  explicit DatanodeService(Namenode* nn) : nn_(nn) {}

  grpc::Status Register(grpc::ServerContext*, const proto::RegisterRequest* req,
                        proto::RegisterResponse*) override {
    const auto& id = req->id();
    if (id.uuid().empty() || id.uuid().size() > 64 || id.host().empty() ||
        id.data_port() == 0 || id.data_port() > 65535) {
      return ToGrpc(InvalidArgument("registration needs a uuid, a host and a data port"));
    }
    nn_->WithWriteLock([&](const NamenodeState& st) {
      // A datanode that registers again has restarted: its replicas arrive in its report.
      if (DatanodeState* old = st.datanodes.Find(id.uuid())) st.blocks.DatanodeDead(old);
      st.datanodes.Register(id, req->storage());
    });
    return grpc::Status::OK;
  }

  grpc::Status Heartbeat(grpc::ServerContext*, const proto::HeartbeatRequest* req,
                         proto::HeartbeatResponse* resp) override {
    if (req->interval_ms() < 0 || req->interval_ms() > kMaxHeartbeatIntervalMs) {
      return ToGrpc(InvalidArgument("heartbeat interval out of range: " +
                                    std::to_string(req->interval_ms()) + " ms"));
    }
    nn_->WithWriteLock([&](const NamenodeState& st) {
      DatanodeState* dn = st.datanodes.Heartbeat(req->uuid(), req->storage(),
                                                 req->active_transfers(), req->interval_ms());
      if (!dn) {
        resp->add_commands()->set_reregister(true);
        return;
      }
      // Followers keep what they queued (deletions decided by committed operations)
      // until they lead.
      if (!SendsCommands()) return;
      for (auto& c : st.datanodes.TakeCommands(dn, kMaxCommandsPerHeartbeat)) {
        *resp->add_commands() = std::move(c);
      }
    });
    resp->set_leader(nn_->IsLeader());
    resp->set_term(nn_->leader_term());
    return grpc::Status::OK;
  }

  grpc::Status BlockReport(grpc::ServerContext*, const proto::BlockReportRequest* req,
                           proto::BlockReportResponse* resp) override {
    if (req->blocks_size() > kMaxBlocksPerReport) {
      return ToGrpc(InvalidArgument("block report too large"));
    }
    // In slices, the lock taken for each: other calls go on between them. The datanode
    // sends nothing else until this call returns (its reports and heartbeats to this
    // namenode come from one thread), so no incremental report of its own slips in.
    std::unordered_set<uint64_t> reported;
    reported.reserve(static_cast<size_t>(req->blocks_size()));
    bool registered = true;
    for (int start = 0; registered && start <= req->blocks_size(); start += kReportSlice) {
      int end = std::min(start + kReportSlice, req->blocks_size());
      bool last = end == req->blocks_size();
      nn_->WithWriteLock([&](const NamenodeState& st) {
        DatanodeState* dn = st.datanodes.Find(req->uuid());
        if (!dn || !dn->live) {  // not registered, or declared dead meanwhile
          registered = false;
          return;
        }
        for (int i = start; i < end; ++i) {
          reported.insert(req->blocks(i).id());
          st.blocks.BlockReceived(dn, req->blocks(i));
        }
        if (!last) return;
        st.blocks.ForgetUnreported(dn, reported);
        for (const auto& b : req->unfinished()) st.blocks.ReplicaUnfinished(dn, b);
      });
      if (last) break;
    }
    if (!registered) resp->add_commands()->set_reregister(true);
    resp->set_leader(nn_->IsLeader());
    resp->set_term(nn_->leader_term());
    return grpc::Status::OK;
  }

  grpc::Status BlockReceivedAndDeleted(grpc::ServerContext*,
                                       const proto::BlockReceivedAndDeletedRequest* req,
                                       proto::BlockReceivedAndDeletedResponse*) override {
    Status s;
    nn_->WithWriteLock([&](const NamenodeState& st) {
      DatanodeState* dn = st.datanodes.Find(req->uuid());
      if (!dn || !dn->live) {
        s = FailedPrecondition("datanode " + req->uuid() + " is not registered");
        return;
      }
      for (const auto& b : req->received()) st.blocks.BlockReceived(dn, b);
      for (const auto& b : req->deleted()) st.blocks.BlockDeleted(dn, b.id());
      for (const auto& b : req->corrupt()) st.blocks.MarkCorrupt(b.id(), req->uuid());
      for (const auto& b : req->unfinished()) st.blocks.ReplicaUnfinished(dn, b);
    });
    return ToGrpc(s);
  }

 private:
  // Only the leader decides, and not while in safe mode. Called under the lock.
  bool SendsCommands() { return nn_->IsLeader() && !nn_->InSafeModeLocked(); }

  Namenode* nn_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeDatanodeService(Namenode* nn) {
  return std::make_unique<DatanodeService>(nn);
}

}  // namespace dfs
