// The ClientProtocol gRPC service: checks each request at the edge, then reads the
// namespace under the shared lock or submits an op to the log.
#include <algorithm>
#include <tuple>
#include <unordered_set>

#include "common/async_unary.h"
#include "common/logging.h"
#include "common/net.h"
#include "common/rpc.h"
#include "namenode/fsck.h"
#include "namenode/namenode.h"
#include "namenode/path.h"
#include "proto/namenode.grpc.pb.h"

namespace dfs {

namespace {

constexpr uint32_t kDefaultListLimit = 1000;
constexpr uint32_t kMaxListLimit = 10000;
constexpr size_t kMaxClientNameBytes = 256;
constexpr int kMaxBatch = 1000;  // stats or mutations in one call

// "ipv4:127.0.0.1:4567" -> "127.0.0.1".
std::string PeerHost(const grpc::ServerContextBase* ctx) {
  std::string peer = ctx->peer();
  size_t first = peer.find(':');
  size_t last = peer.rfind(':');
  if (first == std::string::npos || last <= first) return "";
  std::string host = peer.substr(first + 1, last - first - 1);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return host;
}

Status CheckPath(const std::string& path) { return SplitPath(path).status(); }

// A stat, the path checked first.
Result<proto::FileStatus> FileInfo(const Namespace& ns, const std::string& path) {
  RETURN_IF_ERROR(CheckPath(path));
  return ns.GetFileInfo(path);
}

// A call carries at most kMaxBatch stats or mutations (`what`).
Status CheckBatchSize(int n, const char* what) {
  if (n <= kMaxBatch) return Status::Ok();
  return InvalidArgument("too many " + std::string(what) + " in one call: " + std::to_string(n) +
                         " (at most " + std::to_string(kMaxBatch) + ")");
}

Status CheckClientName(const std::string& name) {
  if (name.empty()) return InvalidArgument("client name is empty");
  if (name.size() > kMaxClientNameBytes) return InvalidArgument("client name is too long");
  return Status::Ok();
}

// An op from the caller of ctx: its user, and the client id and call id by which a retry
// of it is recognised (none without both).
proto::Op NewOp(const grpc::ServerContextBase* ctx, uint64_t call_id) {
  proto::Op op;
  op.set_user(GetMetadata(*ctx, kUserKey));
  std::string client = GetMetadata(*ctx, kClientIdKey);
  if (!client.empty() && call_id != 0 && client.size() <= kMaxClientNameBytes) {
    op.set_client_id(client);
    op.set_call_id(call_id);
  }
  return op;
}

// The same with the call's own call id (its dfs-call-id).
proto::Op NewOp(const grpc::ServerContextBase* ctx) {
  return NewOp(ctx, std::strtoull(GetMetadata(*ctx, kCallIdKey).c_str(), nullptr, 10));
}

#define CHECK_OK(expr)                    \
  do {                                    \
    ::dfs::Status _s = (expr);            \
    if (!_s.ok()) return ToGrpc(_s);      \
  } while (0)

// The hot methods (reads and plain mutations) are served by an AsyncUnaryServer: each
// runs on the thread that took the call from the network. Reads answer there; a mutation
// proposes its op and returns, and the apply thread answers once the op is applied. The
// rest (rare, and some wait for the log) stay on gRPC's synchronous thread pool.
using P = proto::ClientProtocol;
using ServiceBase = P::WithAsyncMethod_GetFileInfo<
    P::WithAsyncMethod_GetFileInfos<P::WithAsyncMethod_Mutations<P::WithAsyncMethod_ListStatus<
        P::WithAsyncMethod_GetBlockLocations<P::WithAsyncMethod_Mkdirs<P::WithAsyncMethod_Create<
            P::WithAsyncMethod_Append<P::WithAsyncMethod_Rename<P::WithAsyncMethod_Delete<
                P::WithAsyncMethod_SetReplication<P::WithAsyncMethod_SetPermission<
                    P::WithAsyncMethod_SetOwner<P::WithAsyncMethod_SetTimes<
                        P::WithAsyncMethod_Complete<P::Service>>>>>>>>>>>>>>>;
using Done = AsyncUnaryServer::Done;

class ClientService final : public ServiceBase {
 public:
  explicit ClientService(Namenode* nn) : nn_(nn) {}

  // Hands the hot methods to async (see ServiceBase).
  void ServeAsync(AsyncUnaryServer* async) {
    Serve(async, &ClientService::RequestGetFileInfo, &ClientService::GetFileInfo);
    Serve(async, &ClientService::RequestGetFileInfos, &ClientService::GetFileInfos);
    Serve(async, &ClientService::RequestMutations, &ClientService::Mutations);
    Serve(async, &ClientService::RequestListStatus, &ClientService::ListStatus);
    Serve(async, &ClientService::RequestGetBlockLocations, &ClientService::GetBlockLocations);
    Serve(async, &ClientService::RequestMkdirs, &ClientService::Mkdirs);
    Serve(async, &ClientService::RequestCreate, &ClientService::Create);
    Serve(async, &ClientService::RequestAppend, &ClientService::Append);
    Serve(async, &ClientService::RequestRename, &ClientService::Rename);
    Serve(async, &ClientService::RequestDelete, &ClientService::Delete);
    Serve(async, &ClientService::RequestSetReplication, &ClientService::SetReplication);
    Serve(async, &ClientService::RequestSetPermission, &ClientService::SetPermission);
    Serve(async, &ClientService::RequestSetOwner, &ClientService::SetOwner);
    Serve(async, &ClientService::RequestSetTimes, &ClientService::SetTimes);
    Serve(async, &ClientService::RequestComplete, &ClientService::Complete);
  }

  template <class Base, class Req, class Resp>
  void Serve(AsyncUnaryServer* async, AsyncUnaryServer::RequestMethod<Base, Req, Resp> request,
             void (ClientService::*method)(grpc::ServerContext*, const Req*, Resp*, Done)) {
    async->Handle(this, request, [this, method](auto* ctx, auto* req, auto* resp, Done done) {
      (this->*method)(ctx, req, resp, std::move(done));
    });
  }
  // A mutation's handler gets the op to fill in, with who sends it (see NewOp).
  template <class Base, class Req, class Resp>
  void Serve(AsyncUnaryServer* async, AsyncUnaryServer::RequestMethod<Base, Req, Resp> request,
             void (ClientService::*method)(proto::Op, const Req*, Resp*, Done)) {
    async->Handle(this, request, [this, method](auto* ctx, auto* req, auto* resp, Done done) {
      (this->*method)(NewOp(ctx), req, resp, std::move(done));
    });
  }

  // Answers with read() once this replica reflects every write committed before the call
  // (a ReadIndex barrier: linearizable), or with Unavailable if it is not the leader.
  void AfterBarrier(Done done, std::function<grpc::Status()> read) {
    nn_->ReadBarrierAsync([done = std::move(done), read = std::move(read)](Status s) {
      done(s.ok() ? read() : ToGrpc(s));
    });
  }

  // Builds the op (or refuses the request), submits it, and finishes the call once it is
  // applied: with the op's own status, after fill() has put its result in the response.
  // While Mutations dispatches a batch, its ops are gathered in *gathered_ and submitted
  // together.
  void Mutate(Done done, const std::function<Result<proto::Op>()>& build,
              std::function<void(const OpResult&)> fill = nullptr) {
    auto op = build();
    if (!op.ok()) return done(ToGrpc(op.status()));
    auto then = [done = std::move(done), fill = std::move(fill)](Result<OpResult> r) {
      if (!r.ok()) return done(ToGrpc(r.status()));
      if (r->status.ok() && fill) fill(*r);
      done(ToGrpc(r->status));
    };
    if (gathered_) {
      gathered_->push_back({std::move(*op), std::move(then)});
    } else {
      nn_->SubmitAsync(std::move(*op), std::move(then));
    }
  }

  void GetFileInfo(grpc::ServerContext*, const proto::GetFileInfoRequest* req,
                   proto::GetFileInfoResponse* resp, Done done) {
    AfterBarrier(std::move(done), [this, req, resp] { return GetFileInfoSync(req, resp); });
  }
  void GetFileInfos(grpc::ServerContext*, const proto::GetFileInfosRequest* req,
                    proto::GetFileInfosResponse* resp, Done done) {
    if (Status s = CheckBatchSize(req->paths_size(), "paths"); !s.ok()) return done(ToGrpc(s));
    AfterBarrier(std::move(done), [this, req, resp] {
      nn_->WithReadLock([&](const NamenodeState& st) {
        for (const auto& path : req->paths()) {
          auto* out = resp->add_results();
          auto r = FileInfo(st.ns, path);
          if (r.ok()) {
            *out->mutable_status() = std::move(*r);
          } else {
            out->set_code(static_cast<int32_t>(r.status().code()));
            out->set_message(r.status().message());
          }
        }
      });
      return grpc::Status::OK;
    });
  }
  // Each mutation goes to its kind's handler as if it came alone, with its own call id; the
  // call is answered once all are. A replica that does not lead refuses the whole call, so
  // that libdfs moves on to the next one.
  void Mutations(grpc::ServerContext* ctx, const proto::MutationsRequest* req,
                 proto::MutationsResponse* resp, Done done) {
    const int n = req->mutations_size();
    if (Status s = CheckBatchSize(n, "mutations"); !s.ok()) return done(ToGrpc(s));
    std::unordered_set<uint64_t> ids;
    for (const proto::Mutation& m : req->mutations()) {
      if (m.call_id() != 0 && !ids.insert(m.call_id()).second) {
        return done(ToGrpc(InvalidArgument("two mutations in one call have call id " +
                                           std::to_string(m.call_id()))));
      }
    }
    if (Status s = CheckLeader(); !s.ok() || n == 0) return done(ToGrpc(s));
    struct Left {
      std::atomic<int> count;
      Done done;
    };
    auto left = std::make_shared<Left>(n, std::move(done));
    for (int i = 0; i < n; ++i) resp->add_results();  // before any is answered
    std::vector<Namenode::Submission> ops;            // one log write for the batch
    gathered_ = &ops;
    for (int i = 0; i < n; ++i) {
      const proto::Mutation& m = req->mutations(i);
      proto::MutationsResponse::Result* out = resp->mutable_results(i);
      Done answer = [left, out](grpc::Status s) {
        out->set_code(s.error_code());
        out->set_message(s.error_message());
        if (--left->count == 0) left->done(grpc::Status::OK);
      };
      proto::Op op = NewOp(ctx, m.call_id());
      using M = proto::Mutation;
      switch (m.request_case()) {
        case M::kMkdirs:
          Mkdirs(std::move(op), &m.mkdirs(), out->mutable_mkdirs(), answer);
          break;
        case M::kCreate:
          Create(std::move(op), &m.create(), out->mutable_create(), answer);
          break;
        case M::kAppend:
          Append(std::move(op), &m.append(), out->mutable_append(), answer);
          break;
        case M::kComplete:
          Complete(std::move(op), &m.complete(), out->mutable_complete(), answer);
          break;
        case M::kRename:
          Rename(std::move(op), &m.rename(), out->mutable_rename(), answer);
          break;
        case M::kDelete:
          Delete(std::move(op), &m.delete_(), out->mutable_delete_(), answer);
          break;
        case M::kSetReplication:
          SetReplication(std::move(op), &m.set_replication(), out->mutable_set_replication(),
                         answer);
          break;
        case M::kSetPermission:
          SetPermission(std::move(op), &m.set_permission(), out->mutable_set_permission(), answer);
          break;
        case M::kSetOwner:
          SetOwner(std::move(op), &m.set_owner(), out->mutable_set_owner(), answer);
          break;
        case M::kSetTimes:
          SetTimes(std::move(op), &m.set_times(), out->mutable_set_times(), answer);
          break;
        default:
          answer(ToGrpc(InvalidArgument("a mutation names no request")));
      }
    }
    gathered_ = nullptr;
    nn_->SubmitAsync(std::move(ops));
  }

  void ListStatus(grpc::ServerContext*, const proto::ListStatusRequest* req,
                  proto::ListStatusResponse* resp, Done done) {
    AfterBarrier(std::move(done), [this, req, resp] { return ListStatusSync(req, resp); });
  }
  void GetBlockLocations(grpc::ServerContext* ctx, const proto::GetBlockLocationsRequest* req,
                         proto::GetBlockLocationsResponse* resp, Done done) {
    AfterBarrier(std::move(done),
                 [this, ctx, req, resp] { return GetBlockLocationsSync(ctx, req, resp); });
  }

  grpc::Status GetFileInfoSync(const proto::GetFileInfoRequest* req,
                               proto::GetFileInfoResponse* resp) {
    Status s;
    nn_->WithReadLock([&](const NamenodeState& st) {
      auto r = FileInfo(st.ns, req->path());
      if (r.ok()) *resp->mutable_status() = *r;
      s = r.status();
    });
    return ToGrpc(s);
  }

  grpc::Status ListStatusSync(const proto::ListStatusRequest* req,
                              proto::ListStatusResponse* resp) {
    CHECK_OK(CheckPath(req->path()));
    uint32_t limit = req->limit() == 0 ? kDefaultListLimit : std::min(req->limit(), kMaxListLimit);
    Status s;
    nn_->WithReadLock([&](const NamenodeState& st) {
      bool more = false;
      auto r = st.ns.List(req->path(), req->start_after(), limit, &more);
      s = r.status();
      if (!r.ok()) return;
      for (auto& e : *r) *resp->add_entries() = std::move(e);
      resp->set_has_more(more);
    });
    return ToGrpc(s);
  }

  void Mkdirs(proto::Op op, const proto::MkdirsRequest* req, proto::MkdirsResponse*, Done done) {
    Mutate(std::move(done), [&]() -> Result<proto::Op> {
      RETURN_IF_ERROR(CheckPath(req->path()));
      auto* m = op.mutable_mkdirs();
      m->set_path(req->path());
      m->set_mode(req->mode() & 07777);
      m->set_create_parent(req->create_parent());
      return std::move(op);
    });
  }

  void Create(proto::Op op, const proto::CreateRequest* req, proto::CreateResponse* resp,
              Done done) {
    auto build = [&]() -> Result<proto::Op> {
      RETURN_IF_ERROR(CheckPath(req->path()));
      RETURN_IF_ERROR(CheckClientName(req->client_name()));
      nn_->RenewLease(req->client_name());
      auto* c = op.mutable_create();
      c->set_path(req->path());
      c->set_mode(req->mode() & 07777);
      c->set_client_name(req->client_name());
      c->set_overwrite(req->overwrite());
      c->set_create_parent(req->create_parent());
      const NamenodeOptions& o = nn_->options();
      c->set_replication(req->replication() ? req->replication() : o.default_replication);
      c->set_block_size(req->block_size() ? req->block_size() : o.default_block_size);
      return std::move(op);
    };
    Mutate(std::move(done), build, [resp](const OpResult& r) { *resp->mutable_status() = r.file; });
  }

  void Append(proto::Op op, const proto::AppendRequest* req, proto::AppendResponse* resp,
              Done done) {
    auto build = [&]() -> Result<proto::Op> {
      RETURN_IF_ERROR(CheckPath(req->path()));
      RETURN_IF_ERROR(CheckClientName(req->client_name()));
      nn_->RenewLease(req->client_name());
      op.mutable_append()->set_path(req->path());
      op.mutable_append()->set_client_name(req->client_name());
      return std::move(op);
    };
    Mutate(std::move(done), build, [resp](const OpResult& r) { *resp->mutable_status() = r.file; });
  }

  grpc::Status AddBlock(grpc::ServerContext* ctx, const proto::AddBlockRequest* req,
                        proto::AddBlockResponse* resp) override {
    CHECK_OK(CheckPath(req->path()));
    CHECK_OK(CheckClientName(req->client_name()));
    nn_->RenewLease(req->client_name());
    if (req->excluded_datanodes_size() > 1000) {
      return ToGrpc(InvalidArgument("too many excluded datanodes"));
    }
    std::set<std::string> excluded(req->excluded_datanodes().begin(),
                                   req->excluded_datanodes().end());
    std::vector<std::string> targets;
    uint64_t block_size = 0;
    bool safe_mode = false;
    CHECK_OK(CheckLeader());  // the checks below read this replica's state
    Status s;
    nn_->WithReadLock([&](const NamenodeState& st) {
      safe_mode = nn_->InSafeModeLocked();
      auto f = st.ns.GetFile(req->path());
      if (!f.ok()) {
        s = f.status();
        return;
      }
      if ((*f)->lease_holder != req->client_name()) {
        s = FailedPrecondition("file is not open for writing by " + req->client_name() + ": " +
                               req->path());
        return;
      }
      block_size = (*f)->block_size;
      targets = ChooseTargets(st.datanodes.LiveCandidates(), (*f)->replication, block_size,
                              PeerHost(ctx), excluded);
    });
    CHECK_OK(s);
    if (targets.empty() && safe_mode) {
      // A new leader whose datanodes have not all reported yet: worth a retry.
      return ToGrpc(Unavailable("namenode is in safe mode, waiting for datanodes to report"));
    }
    if (targets.empty()) {
      return ToGrpc(ResourceExhausted("no datanode can take a new block of " + req->path() +
                                      " (none live with free space, or all excluded)"));
    }
    proto::Op op = NewOp(ctx);
    auto* a = op.mutable_add_block();
    a->set_path(req->path());
    a->set_client_name(req->client_name());
    if (req->has_previous()) *a->mutable_previous() = req->previous();
    auto r = nn_->Submit(std::move(op));
    if (!r.ok()) return ToGrpc(r.status());
    if (!r->status.ok()) return ToGrpc(r->status);
    auto* lb = resp->mutable_block();
    *lb->mutable_block() = r->block;
    nn_->WithWriteLock([&](const NamenodeState& st) {
      auto f = st.ns.GetFile(req->path());
      if (f.ok()) lb->set_offset((*f)->Length());
      for (const auto& uuid : targets) {
        DatanodeState* dn = st.datanodes.Find(uuid);
        if (!dn) continue;
        dn->scheduled_bytes += block_size;
        *lb->add_locations() = dn->id;
      }
    });
    return grpc::Status::OK;
  }

  grpc::Status UpdatePipeline(grpc::ServerContext* ctx, const proto::UpdatePipelineRequest* req,
                              proto::UpdatePipelineResponse* resp) override {
    CHECK_OK(CheckPath(req->path()));
    CHECK_OK(CheckClientName(req->client_name()));
    nn_->RenewLease(req->client_name());
    if (req->survivors_size() + req->excluded_datanodes_size() > 1000 ||
        req->replacements() > 32) {
      return ToGrpc(InvalidArgument("pipeline update asks too much"));
    }
    std::set<std::string> excluded(req->excluded_datanodes().begin(),
                                   req->excluded_datanodes().end());
    excluded.insert(req->survivors().begin(), req->survivors().end());
    std::vector<std::string> targets;
    uint64_t block_size = 0;
    CHECK_OK(CheckLeader());
    nn_->WithReadLock([&](const NamenodeState& st) {
      auto f = st.ns.GetFile(req->path());
      if (!f.ok() || req->replacements() == 0) return;  // the op below says what is wrong
      block_size = (*f)->block_size;
      targets = ChooseTargets(st.datanodes.LiveCandidates(), req->replacements(), block_size,
                              PeerHost(ctx), excluded);
    });
    proto::Op op = NewOp(ctx);
    auto* u = op.mutable_update_pipeline();
    u->set_path(req->path());
    u->set_client_name(req->client_name());
    *u->mutable_block() = req->block();
    auto r = nn_->Submit(std::move(op));
    if (!r.ok()) return ToGrpc(r.status());
    if (!r->status.ok()) return ToGrpc(r->status);
    auto* lb = resp->mutable_block();
    *lb->mutable_block() = r->block;
    nn_->WithWriteLock([&](const NamenodeState& st) {
      for (const auto& uuid : targets) {
        DatanodeState* dn = st.datanodes.Find(uuid);
        if (!dn) continue;
        dn->scheduled_bytes += block_size;
        *lb->add_locations() = dn->id;
      }
    });
    spdlog::info("pipeline of block {} of {} updated: generation stamp {}, {} replacement(s)",
                 r->block.id(), req->path(), r->block.generation_stamp(), targets.size());
    return grpc::Status::OK;
  }

  grpc::Status AbandonBlock(grpc::ServerContext* ctx, const proto::AbandonBlockRequest* req,
                            proto::AbandonBlockResponse*) override {
    CHECK_OK(CheckPath(req->path()));
    CHECK_OK(CheckClientName(req->client_name()));
    nn_->RenewLease(req->client_name());
    proto::Op op = NewOp(ctx);
    auto* a = op.mutable_abandon_block();
    a->set_path(req->path());
    a->set_client_name(req->client_name());
    *a->mutable_block() = req->block();
    return ToGrpc(SubmitStatus(std::move(op)));
  }

  void Complete(proto::Op op, const proto::CompleteRequest* req, proto::CompleteResponse* resp,
                Done done) {
    // Three outcomes: refused; answered at once (a retry of a Complete that was applied,
    // which finds the file closed, gets its first answer; or not every block has a
    // finalized replica yet: completed=false, call again); or the op is submitted.
    bool answered = false;
    Result<proto::Op> built = [&]() -> Result<proto::Op> {
      RETURN_IF_ERROR(CheckPath(req->path()));
      RETURN_IF_ERROR(CheckClientName(req->client_name()));
      RETURN_IF_ERROR(CheckLeader());  // the checks below read this replica's state
      nn_->RenewLease(req->client_name());
      if (auto first = nn_->CachedResult(op)) {
        RETURN_IF_ERROR(first->status);
        resp->set_completed(true);
        answered = true;
        return proto::Op();
      }
      bool ready = true;
      Status s;
      nn_->WithReadLock([&](const NamenodeState& st) {
        auto f = st.ns.GetFile(req->path());
        if (!f.ok()) {
          s = f.status();
          return;
        }
        if ((*f)->lease_holder != req->client_name()) {
          s = FailedPrecondition("file is not open for writing by " + req->client_name() + ": " +
                                 req->path());
          return;
        }
        for (const auto& b : (*f)->blocks) {
          if (st.blocks.GoodReplicas(b.id()) == 0) ready = false;
        }
      });
      RETURN_IF_ERROR(s);
      if (!ready) {
        resp->set_completed(false);
        answered = true;
        return proto::Op();
      }
      auto* c = op.mutable_complete();
      c->set_path(req->path());
      c->set_client_name(req->client_name());
      if (req->has_last()) *c->mutable_last() = req->last();
      return std::move(op);
    }();
    if (answered) {
      return done(grpc::Status::OK);
    }
    Mutate(std::move(done), [&] { return std::move(built); },
                  [resp](const OpResult&) { resp->set_completed(true); });
  }

  grpc::Status GetBlockLocationsSync(grpc::ServerContext* ctx,
                                     const proto::GetBlockLocationsRequest* req,
                                     proto::GetBlockLocationsResponse* resp) {
    CHECK_OK(CheckPath(req->path()));
    std::string client_host = PeerHost(ctx);
    Status s;
    nn_->WithReadLock([&](const NamenodeState& st) {
      auto f = st.ns.GetFile(req->path());
      if (!f.ok()) {
        s = f.status();
        return;
      }
      const Inode* file = *f;
      st.blocks.NoteRead(file->id);
      resp->set_file_length(file->Length());
      resp->set_under_construction(!file->lease_holder.empty());
      uint64_t end = req->length() == 0 ? UINT64_MAX : req->offset() + req->length();
      uint64_t off = 0;
      for (const auto& b : file->blocks) {
        uint64_t start = off;
        off += b.num_bytes();
        if (b.num_bytes() == 0 || off <= req->offset() || start >= end) continue;
        auto* lb = resp->add_blocks();
        *lb->mutable_block() = b;
        lb->set_offset(start);
        auto locs = st.blocks.Locations(b.id());
        // Fresh before stale (probably dead), the reader's own host first, then the
        // least busy.
        auto order = [&](const DatanodeState* d) {
          return std::make_tuple(st.datanodes.IsStale(*d), d->id.host() != client_host,
                                 d->active_transfers);
        };
        std::sort(locs.begin(), locs.end(),
                  [&](const auto* x, const auto* y) { return order(x) < order(y); });
        for (const auto* dn : locs) *lb->add_locations() = dn->id;
        lb->set_corrupt(locs.empty());
      }
    });
    return ToGrpc(s);
  }

  void Rename(proto::Op op, const proto::RenameRequest* req, proto::RenameResponse*, Done done) {
    Mutate(std::move(done), [&]() -> Result<proto::Op> {
      RETURN_IF_ERROR(CheckPath(req->src()));
      RETURN_IF_ERROR(CheckPath(req->dst()));
      op.mutable_rename()->set_src(req->src());
      op.mutable_rename()->set_dst(req->dst());
      op.mutable_rename()->set_overwrite(req->overwrite());
      return std::move(op);
    });
  }

  void Delete(proto::Op op, const proto::DeleteRequest* req, proto::DeleteResponse*, Done done) {
    Mutate(std::move(done), [&]() -> Result<proto::Op> {
      RETURN_IF_ERROR(CheckPath(req->path()));
      op.mutable_delete_()->set_path(req->path());
      op.mutable_delete_()->set_recursive(req->recursive());
      return std::move(op);
    });
  }

  void SetReplication(proto::Op op, const proto::SetReplicationRequest* req,
                      proto::SetReplicationResponse*, Done done) {
    Mutate(std::move(done), [&]() -> Result<proto::Op> {
      RETURN_IF_ERROR(CheckPath(req->path()));
      op.mutable_set_replication()->set_path(req->path());
      op.mutable_set_replication()->set_replication(req->replication());
      return std::move(op);
    });
  }

  void SetPermission(proto::Op op, const proto::SetPermissionRequest* req,
                     proto::SetPermissionResponse*, Done done) {
    Mutate(std::move(done), [&]() -> Result<proto::Op> {
      RETURN_IF_ERROR(CheckPath(req->path()));
      op.mutable_set_permission()->set_path(req->path());
      op.mutable_set_permission()->set_mode(req->mode());
      return std::move(op);
    });
  }

  void SetOwner(proto::Op op, const proto::SetOwnerRequest* req, proto::SetOwnerResponse*,
                Done done) {
    Mutate(std::move(done), [&]() -> Result<proto::Op> {
      RETURN_IF_ERROR(CheckPath(req->path()));
      auto* o = op.mutable_set_owner();
      o->set_path(req->path());
      o->set_owner(req->owner());
      o->set_group(req->group());
      return std::move(op);
    });
  }

  void SetTimes(proto::Op op, const proto::SetTimesRequest* req, proto::SetTimesResponse*,
                Done done) {
    Mutate(std::move(done), [&]() -> Result<proto::Op> {
      RETURN_IF_ERROR(CheckPath(req->path()));
      auto* t = op.mutable_set_times();
      t->set_path(req->path());
      t->set_mtime_ms(req->mtime_ms());
      t->set_atime_ms(req->atime_ms());
      return std::move(op);
    });
  }

  grpc::Status GetContentSummary(grpc::ServerContext*, const proto::GetContentSummaryRequest* req,
                                 proto::GetContentSummaryResponse* resp) override {
    CHECK_OK(CheckPath(req->path()));
    CHECK_OK(nn_->ReadBarrier());
    Status s;
    nn_->WithReadLock([&](const NamenodeState& st) {
      auto r = st.ns.GetContentSummary(req->path());
      s = r.status();
      if (!r.ok()) return;
      resp->set_length(r->length);
      resp->set_file_count(r->files);
      resp->set_directory_count(r->directories);
      resp->set_space_consumed(r->space_consumed);
    });
    return ToGrpc(s);
  }

  grpc::Status RenewLease(grpc::ServerContext*, const proto::RenewLeaseRequest* req,
                          proto::RenewLeaseResponse*) override {
    CHECK_OK(CheckClientName(req->client_name()));
    CHECK_OK(CheckLeader());
    nn_->RenewLease(req->client_name());
    return grpc::Status::OK;
  }

  grpc::Status ReportBadBlocks(grpc::ServerContext*, const proto::ReportBadBlocksRequest* req,
                               proto::ReportBadBlocksResponse*) override {
    if (req->replicas_size() > 10000) return ToGrpc(InvalidArgument("too many bad replicas"));
    CHECK_OK(CheckLeader());
    nn_->WithWriteLock([&](const NamenodeState& st) {
      for (const auto& r : req->replicas()) {
        spdlog::warn("client reports bad replica of block {} on {}: {}", r.block().id(),
                     r.datanode_uuid(), r.reason().substr(0, 200));
        st.blocks.MarkCorrupt(r.block().id(), r.datanode_uuid());
      }
    });
    return grpc::Status::OK;
  }

  grpc::Status GetStats(grpc::ServerContext*, const proto::GetStatsRequest*,
                        proto::GetStatsResponse* resp) override {
    CHECK_OK(nn_->ReadBarrier());
    nn_->WithReadLock([&](const NamenodeState& st) {
      for (const auto& [uuid, dn] : st.datanodes.all()) {
        if (!dn.live) {
          resp->set_dead_datanodes(resp->dead_datanodes() + 1);
          continue;
        }
        resp->set_live_datanodes(resp->live_datanodes() + 1);
        resp->set_capacity(resp->capacity() + dn.storage.capacity());
        resp->set_used(resp->used() + dn.storage.used());
        resp->set_remaining(resp->remaining() + dn.storage.remaining());
      }
      resp->set_blocks(st.ns.block_count());
      resp->set_under_replicated_blocks(st.blocks.under_replicated());
      resp->set_corrupt_replicas(st.blocks.corrupt_replicas());
      resp->set_files(st.ns.file_count());
      resp->set_directories(st.ns.directory_count());
    });
    return grpc::Status::OK;
  }

  grpc::Status GetDatanodeReport(grpc::ServerContext*, const proto::GetDatanodeReportRequest*,
                                 proto::GetDatanodeReportResponse* resp) override {
    CHECK_OK(nn_->ReadBarrier());
    nn_->WithReadLock([&](const NamenodeState& st) {
      int64_t now = st.datanodes.NowMs();
      for (const auto& [uuid, dn] : st.datanodes.all()) {
        auto* r = resp->add_datanodes();
        *r->mutable_id() = dn.id;
        r->set_live(dn.live);
        r->set_stale(dn.live && st.datanodes.IsStale(dn));
        r->set_capacity(dn.storage.capacity());
        r->set_used(dn.storage.used());
        r->set_remaining(dn.storage.remaining());
        r->set_blocks(static_cast<uint32_t>(dn.blocks.size()));
        r->set_last_heartbeat_ms_ago(now - dn.last_heartbeat_ms);
        r->set_active_transfers(dn.active_transfers);
        r->set_admin_state(DatanodeManager::AdminState(dn));
        *r->mutable_failed_volumes() = dn.storage.failed_volumes();
      }
    });
    return grpc::Status::OK;
  }

  grpc::Status Fsck(grpc::ServerContext*, const proto::FsckRequest* req,
                    proto::FsckResponse* resp) override {
    CHECK_OK(CheckPath(req->path()));
    CHECK_OK(nn_->ReadBarrier());
    Status s;
    nn_->WithReadLock([&](const NamenodeState& st) {
      auto r = dfs::Fsck(st.ns, st.blocks, req->path(), req->list_files());
      s = r.status();
      if (r.ok()) *resp = std::move(*r);
    });
    return ToGrpc(s);
  }

  // ---- administration of the namenode group ----

  grpc::Status GetNamenodeStatus(grpc::ServerContext*, const proto::GetNamenodeStatusRequest* req,
                                 proto::GetNamenodeStatusResponse* resp) override {
    raft::NodeStatus st = nn_->raft().status();
    resp->set_id(st.id);
    resp->set_role(RoleWord(st.role));
    resp->set_term(st.term);
    resp->set_leader_id(st.leader);
    resp->set_commit_index(st.commit);
    resp->set_applied_index(st.applied);
    resp->set_last_index(st.last_index);
    resp->set_snapshot_index(st.snapshot_index);
    for (const auto& m : st.members) {
      auto* pm = resp->add_members();
      pm->set_id(m.id);
      pm->set_raft_address(m.address);
      pm->set_voter(m.voter);
      pm->set_match_index(m.match);
    }
    resp->set_safe_mode(nn_->IsLeader() && nn_->GetSafeMode().on);
    resp->set_raft_cut(nn_->raft().cut());
    if (req->digest()) {
      auto d = nn_->Digest();
      CHECK_OK(d.status());
      resp->set_namespace_digest(d->first);
      resp->set_digest_index(d->second);
    }
    return grpc::Status::OK;
  }

  grpc::Status AddNamenode(grpc::ServerContext*, const proto::AddNamenodeRequest* req,
                           proto::AddNamenodeResponse*) override {
    if (req->id() == 0) return ToGrpc(InvalidArgument("namenode id 0 is reserved"));
    auto hp = SplitHostPort(req->raft_address());
    CHECK_OK(hp.status());
    if (hp->second == 0) return ToGrpc(InvalidArgument("the new namenode's Raft port is 0"));
    CHECK_OK(CheckLeader());
    return ToGrpc(nn_->raft().AddMember(req->id(), req->raft_address(), std::chrono::minutes(2)));
  }

  grpc::Status RemoveNamenode(grpc::ServerContext*, const proto::RemoveNamenodeRequest* req,
                              proto::RemoveNamenodeResponse*) override {
    CHECK_OK(CheckLeader());
    Status s = nn_->raft().RemoveMember(req->id());
    // Removing the leader itself makes it step down before it hears the entry commit.
    if (req->id() == nn_->raft().id() && s.code() == Code::kUnavailable) s = Status::Ok();
    return ToGrpc(s);
  }

  grpc::Status TransferLeadership(grpc::ServerContext*, const proto::TransferLeadershipRequest* req,
                                  proto::TransferLeadershipResponse*) override {
    CHECK_OK(CheckLeader());
    if (req->id() == nn_->raft().id()) return grpc::Status::OK;
    return ToGrpc(nn_->raft().TransferLeadership(req->id(), std::chrono::seconds(10)));
  }

  grpc::Status SafeMode(grpc::ServerContext*, const proto::SafeModeRequest* req,
                        proto::SafeModeResponse* resp) override {
    CHECK_OK(CheckLeader());
    if (req->action() == proto::SafeModeRequest::ENTER) CHECK_OK(nn_->SetSafeMode(true));
    if (req->action() == proto::SafeModeRequest::LEAVE) CHECK_OK(nn_->SetSafeMode(false));
    SafeModeState st = nn_->GetSafeMode();
    resp->set_on(st.on);
    resp->set_manual(st.manual);
    resp->set_blocks_total(st.blocks_total);
    resp->set_blocks_reported(st.blocks_reported);
    resp->set_threshold(nn_->options().safe_mode_threshold);
    return grpc::Status::OK;
  }

  grpc::Status Decommission(grpc::ServerContext* ctx, const proto::DecommissionRequest* req,
                            proto::DecommissionResponse* resp) override {
    CHECK_OK(CheckLeader());
    if (req->datanodes().empty()) return ToGrpc(InvalidArgument("name at least one datanode"));
    proto::Op op = NewOp(ctx);
    auto* d = op.mutable_set_decommission();
    d->set_decommission(!req->recommission());
    Status s;
    nn_->WithReadLock([&](const NamenodeState& st) {
      for (const auto& name : req->datanodes()) {
        bool matched = false;
        for (const auto& [uuid, dn] : st.datanodes.all()) {
          std::string address = dn.id.host() + ":" + std::to_string(dn.id.data_port());
          if (name != uuid && name != address && name != dn.id.host()) continue;
          matched = true;
          d->add_datanodes(uuid);
          *resp->add_datanodes() = dn.id;
        }
        if (!matched && s.ok()) s = NotFound("no datanode is named " + name);
      }
    });
    CHECK_OK(s);
    return ToGrpc(SubmitStatus(std::move(op)));
  }

 private:
  Status CheckLeader() {
    return nn_->IsLeader() ? Status::Ok() : Unavailable("namenode is not the leader");
  }

  static const char* RoleWord(raft::Role r) {
    switch (r) {
      case raft::Role::kLeader: return "leader";
      case raft::Role::kCandidate: return "candidate";
      case raft::Role::kPreCandidate: return "pre-candidate";
      default: return "follower";
    }
  }

  Status SubmitStatus(proto::Op op) {
    auto r = nn_->Submit(std::move(op));
    if (!r.ok()) return r.status();
    return r->status;
  }

  Namenode* nn_;
  // Set while a thread dispatches a batch of mutations (see Mutate).
  static thread_local std::vector<Namenode::Submission>* gathered_;
};

thread_local std::vector<Namenode::Submission>* ClientService::gathered_ = nullptr;

}  // namespace

std::unique_ptr<grpc::Service> MakeClientService(Namenode* nn, AsyncUnaryServer* async) {
  auto service = std::make_unique<ClientService>(nn);
  service->ServeAsync(async);
  return service;
}

}  // namespace dfs
