#include "namenode/raft/transport.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/logging.h"
#include "common/rpc.h"
#include "proto/raft.grpc.pb.h"

namespace dfs::raft {

namespace {

constexpr size_t kMaxQueuedMessages = 4096;
constexpr size_t kMaxBatchBytes = 16 << 20;
constexpr size_t kSnapshotChunkBytes = 1 << 20;
// A stream not written to for this long is replaced before the next write.
constexpr auto kIdleStream = std::chrono::milliseconds(500);

void ToProto(const Message& m, proto::RaftMessage* p) {
  p->set_type(static_cast<uint32_t>(m.type));
  p->set_from(m.from);
  p->set_to(m.to);
  p->set_term(m.term);
  p->set_log_term(m.log_term);
  p->set_index(m.index);
  for (const Entry& e : m.entries) {
    auto* pe = p->add_entries();
    pe->set_term(e.term);
    pe->set_index(e.index);
    pe->set_type(static_cast<uint32_t>(e.type));
    pe->set_data(e.data);
  }
  p->set_commit(m.commit);
  p->set_reject(m.reject);
  p->set_hint_index(m.hint_index);
  p->set_hint_term(m.hint_term);
  p->set_context(m.context);
  if (m.type == MessageType::kSnapshot) {
    auto* s = p->mutable_snapshot();
    s->set_index(m.snapshot.index);
    s->set_term(m.snapshot.term);
    const Membership& mem = m.snapshot.membership;
    for (NodeId id : mem.voters) {
      auto* member = s->add_members();
      member->set_id(id);
      member->set_voter(true);
    }
    for (NodeId id : mem.learners) s->add_members()->set_id(id);
    for (auto& member : *s->mutable_members()) {
      auto it = mem.addresses.find(member.id());
      if (it != mem.addresses.end()) member.set_address(it->second);
    }
  }
}

Result<Message> FromProto(proto::RaftMessage* p) {
  Message m;
  if (p->type() > static_cast<uint32_t>(MessageType::kTimeoutNow)) {
    return InvalidArgument("unknown raft message type " + std::to_string(p->type()));
  }
  m.type = static_cast<MessageType>(p->type());
  m.from = p->from();
  m.to = p->to();
  m.term = p->term();
  m.log_term = p->log_term();
  m.index = p->index();
  m.entries.reserve(p->entries_size());
  for (auto& pe : *p->mutable_entries()) {
    if (pe.type() > static_cast<uint32_t>(EntryType::kConfChange)) {
      return InvalidArgument("unknown raft entry type " + std::to_string(pe.type()));
    }
    Entry e;
    e.term = pe.term();
    e.index = pe.index();
    e.type = static_cast<EntryType>(pe.type());
    e.data = std::move(*pe.mutable_data());
    m.entries.push_back(std::move(e));
  }
  m.commit = p->commit();
  m.reject = p->reject();
  m.hint_index = p->hint_index();
  m.hint_term = p->hint_term();
  m.context = p->context();
  if (p->has_snapshot()) {
    m.snapshot.index = p->snapshot().index();
    m.snapshot.term = p->snapshot().term();
    for (const auto& member : p->snapshot().members()) {
      (member.voter() ? m.snapshot.membership.voters : m.snapshot.membership.learners)
          .insert(member.id());
      if (!member.address().empty()) {
        m.snapshot.membership.addresses[member.id()] = member.address();
      }
    }
  }
  return m;
}

bool StreamSnapshot(proto::RaftTransport::Stub& stub, grpc::ClientContext* ctx,
                    const std::string& own_address, const std::string& path, const Message& m) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    spdlog::warn("raft: snapshot {} to send to node {} is gone", path, m.to);
    return false;
  }
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
  proto::RaftAck ack;
  auto writer = stub.InstallSnapshot(ctx, &ack);
  std::string buf(kSnapshotChunkBytes, '\0');
  uint64_t offset = 0;
  bool ok = true;
  while (ok) {
    in.read(buf.data(), buf.size());
    size_t n = static_cast<size_t>(in.gcount());
    proto::SnapshotChunk chunk;
    chunk.set_from_address(own_address);
    chunk.set_offset(offset);
    chunk.set_data(buf.data(), n);
    offset += n;
    bool last = n < buf.size() || in.peek() == EOF;
    if (last) {
      chunk.set_last(true);
      ToProto(m, chunk.mutable_message());
    }
    ok = writer->Write(chunk);
    if (last) break;
  }
  if (ok) writer->WritesDone();
  grpc::Status s = writer->Finish();
  if (!ok || !s.ok()) {
    spdlog::warn("raft: streaming snapshot {} to node {} failed: {}", m.snapshot.index, m.to,
                 s.error_message());
    return false;
  }
  spdlog::info("raft: sent snapshot at index {} ({} bytes) to node {}", m.snapshot.index, offset,
               m.to);
  return true;
}

}  // namespace

struct Transport::Peer {
  NodeId id = 0;
  std::string address;
  std::shared_ptr<proto::RaftTransport::Stub> stub;  // for `address`
  std::deque<Message> queue;
  std::condition_variable cv;
  std::thread thread;
  // The open Send stream (sender thread), and its context (set and reset under mu_, so
  // Stop can cancel a write blocked on a peer that stopped reading).
  std::unique_ptr<grpc::ClientContext> ctx;
  std::unique_ptr<grpc::ClientWriter<proto::RaftBatch>> stream;
  std::chrono::steady_clock::time_point last_write;
  proto::RaftAck ack;
  grpc::ClientContext* snapshot_ctx = nullptr;  // guarded by mu_: a snapshot being sent
};

class Transport::Service final : public proto::RaftTransport::Service {
 public:
  explicit Service(Transport* t) : t_(t) {}

  grpc::Status Send(grpc::ServerContext* ctx, grpc::ServerReader<proto::RaftBatch>* reader,
                    proto::RaftAck*) override {
    if (!t_->Track(ctx, true)) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "stopping");
    grpc::Status status = Receive(reader);
    t_->Track(ctx, false);
    return status;
  }

  grpc::Status Receive(grpc::ServerReader<proto::RaftBatch>* reader) {
    proto::RaftBatch batch;
    while (reader->Read(&batch)) {
      if (t_->cut_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "cut off (test hook)");
      std::vector<Message> msgs;
      msgs.reserve(batch.messages_size());
      for (auto& pm : *batch.mutable_messages()) {  // entries' data is moved out
        auto m = FromProto(&pm);
        if (!m.ok()) return ToGrpc(m.status());
        if (m->to != t_->self_) {
          return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              "message for node " + std::to_string(m->to) + " sent to node " +
                                  std::to_string(t_->self_));
        }
        msgs.push_back(std::move(*m));
      }
      if (!msgs.empty()) t_->Learn(msgs.front().from, batch.from_address());
      t_->handler_->OnMessages(std::move(msgs));
    }
    return grpc::Status::OK;
  }

  grpc::Status InstallSnapshot(grpc::ServerContext*, grpc::ServerReader<proto::SnapshotChunk>* reader,
                               proto::RaftAck*) override {
    if (t_->cut_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "cut off (test hook)");
    std::string tmp = t_->snapshot_dir_ + "/snap-receiving-" + std::to_string(gettid());
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ToGrpc(Internal("cannot create " + tmp));
    proto::SnapshotChunk chunk;
    uint64_t written = 0;
    bool last = false;
    Message m;
    Status s;
    while (s.ok() && !last && reader->Read(&chunk)) {
      if (chunk.offset() != written) {
        s = InvalidArgument("snapshot chunk at offset " + std::to_string(chunk.offset()) +
                            ", expected " + std::to_string(written));
        break;
      }
      const std::string& d = chunk.data();
      if (!d.empty() && ::write(fd, d.data(), d.size()) != static_cast<ssize_t>(d.size())) {
        s = Internal("writing " + tmp + ": " + strerror(errno));
        break;
      }
      written += d.size();
      if (chunk.last()) {
        last = true;
        auto parsed = FromProto(chunk.mutable_message());
        if (!parsed.ok()) s = parsed.status();
        else m = std::move(*parsed);
      }
    }
    if (s.ok() && !last) s = Unavailable("snapshot stream ended early");
    if (s.ok() && (m.type != MessageType::kSnapshot || m.to != t_->self_)) {
      s = InvalidArgument("the last snapshot chunk does not carry a snapshot message for this node");
    }
    if (s.ok() && ::fsync(fd) != 0) s = Internal("fsync " + tmp + ": " + strerror(errno));
    ::close(fd);
    if (s.ok() && ::rename(tmp.c_str(), t_->SnapshotPath(m.snapshot.index).c_str()) != 0) {
      s = Internal("rename " + tmp + ": " + strerror(errno));
    }
    if (!s.ok()) {
      ::unlink(tmp.c_str());
      return ToGrpc(s);
    }
    spdlog::info("received snapshot at index {} ({} bytes) from node {}", m.snapshot.index,
                 written, m.from);
    t_->Learn(m.from, chunk.from_address());
    std::vector<Message> msgs;
    msgs.push_back(std::move(m));
    t_->handler_->OnMessages(std::move(msgs));
    return grpc::Status::OK;
  }

 private:
  Transport* t_;
};

Transport::Transport(NodeId self, std::string own_address, std::string snapshot_dir,
                     TransportHandler* handler)
    : self_(self),
      own_address_(std::move(own_address)),
      snapshot_dir_(std::move(snapshot_dir)),
      handler_(handler),
      service_(std::make_unique<Service>(this)) {}

Transport::~Transport() { Stop(); }

grpc::Service* Transport::service() { return service_.get(); }

std::string Transport::SnapshotPath(uint64_t index) const {
  return snapshot_dir_ + "/snap-" + std::to_string(index);
}

Transport::Peer* Transport::PeerFor(NodeId id) {
  auto& p = peers_[id];
  if (!p) {
    p = std::make_unique<Peer>();
    p->id = id;
    Peer* raw = p.get();
    p->thread = std::thread([this, raw] { SenderLoop(raw); });
  }
  return p.get();
}

void Transport::Learn(NodeId id, const std::string& address) {
  if (id == 0 || id == self_ || address.empty()) return;
  std::lock_guard<std::mutex> l(mu_);
  if (stopping_) return;
  Peer* p = PeerFor(id);
  if (p->address.empty()) p->address = address;  // the membership's address wins
}

void Transport::SetAddresses(const std::map<NodeId, std::string>& addresses) {
  std::lock_guard<std::mutex> l(mu_);
  if (stopping_) return;
  for (const auto& [id, address] : addresses) {
    if (id == self_ || address.empty()) continue;
    Peer* p = PeerFor(id);
    if (p->address != address) {
      p->address = address;
      p->stub.reset();
      if (p->ctx) p->ctx->TryCancel();  // the open stream leads to the old address
    }
  }
}

std::string Transport::AddressOf(NodeId id) {
  if (id == self_) return own_address_;
  std::lock_guard<std::mutex> l(mu_);
  auto it = peers_.find(id);
  return it == peers_.end() ? "" : it->second->address;
}

void Transport::Send(std::vector<Message> messages) {
  std::lock_guard<std::mutex> l(mu_);
  if (stopping_) return;
  for (Message& m : messages) {
    Peer* p = PeerFor(m.to);
    if (p->queue.size() >= kMaxQueuedMessages) continue;  // Raft copes with loss
    p->queue.push_back(std::move(m));
    p->cv.notify_one();
  }
}

void Transport::SenderLoop(Peer* peer) {
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    peer->cv.wait(l, [&] { return stopping_ || !peer->queue.empty(); });
    if (stopping_) {
      l.unlock();
      CloseStream(peer);
      return;
    }
    std::vector<Message> batch;
    size_t bytes = 0;
    while (!peer->queue.empty() && bytes < kMaxBatchBytes &&
           peer->queue.front().type != MessageType::kSnapshot) {
      for (const Entry& e : peer->queue.front().entries) bytes += e.data.size() + 32;
      batch.push_back(std::move(peer->queue.front()));
      peer->queue.pop_front();
    }
    std::optional<Message> snapshot;
    if (batch.empty()) {
      snapshot = std::move(peer->queue.front());
      peer->queue.pop_front();
    }
    if (peer->address.empty()) {
      l.unlock();
      handler_->OnUnreachable(peer->id);
      if (snapshot) handler_->OnSnapshotSent(peer->id, false);
      l.lock();
      continue;
    }
    if (!peer->stub) peer->stub = proto::RaftTransport::NewStub(MakeChannel(peer->address, true));
    std::shared_ptr<proto::RaftTransport::Stub> stub = peer->stub;
    l.unlock();
    if (snapshot) {
      bool ok = !cut_ && SendSnapshot(peer, *stub, *snapshot);
      handler_->OnSnapshotSent(peer->id, ok);
    } else if (cut_ || !Deliver(peer, *stub, batch)) {
      CloseStream(peer);
      handler_->OnUnreachable(peer->id);
    }
    l.lock();
  }
}

bool Transport::SendSnapshot(Peer* peer, proto::RaftTransport::Stub& stub, const Message& m) {
  grpc::ClientContext ctx;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return false;
    peer->snapshot_ctx = &ctx;  // Stop cancels it
  }
  bool ok = StreamSnapshot(stub, &ctx, own_address_, SnapshotPath(m.snapshot.index), m);
  std::lock_guard<std::mutex> l(mu_);
  peer->snapshot_ctx = nullptr;
  return ok;
}

bool Transport::Deliver(Peer* peer, proto::RaftTransport::Stub& stub,
                        const std::vector<Message>& messages) {
  proto::RaftBatch batch;
  batch.set_from_address(own_address_);
  for (const Message& m : messages) ToProto(m, batch.add_messages());
  // A stream left idle may have died with the peer's previous run (a follower rarely
  // writes to another follower until an election), and a write to it may be lost
  // without an error: an idle stream is replaced before it is written to. A write that
  // fails on an old stream is tried once more on a fresh one.
  const auto now = std::chrono::steady_clock::now();
  if (peer->stream && now - peer->last_write > kIdleStream) CloseStream(peer);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool fresh = !peer->stream;
    if (fresh) {
      {
        std::lock_guard<std::mutex> l(mu_);
        if (stopping_) return false;
        peer->ctx = std::make_unique<grpc::ClientContext>();
      }
      peer->stream = stub.Send(peer->ctx.get(), &peer->ack);
    }
    if (peer->stream->Write(batch)) {
      peer->last_write = now;
      return true;
    }
    if (fresh) return false;
    CloseStream(peer);
  }
  return false;
}

void Transport::CloseStream(Peer* peer) {
  if (!peer->stream) return;
  peer->ctx->TryCancel();
  grpc::Status s = peer->stream->Finish();
  spdlog::debug("raft: stream to node {} closed: {}", peer->id, s.error_message());
  std::lock_guard<std::mutex> l(mu_);
  peer->stream.reset();
  peer->ctx.reset();
}

bool Transport::Track(grpc::ServerContext* ctx, bool open) {
  std::lock_guard<std::mutex> l(mu_);
  if (!open) {
    inbound_.erase(ctx);
    return true;
  }
  if (stopping_) return false;
  inbound_.insert(ctx);
  return true;
}

void Transport::Stop() {
  std::map<NodeId, std::unique_ptr<Peer>> peers;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return;
    stopping_ = true;
    for (auto& [id, p] : peers_) {
      p->cv.notify_all();
      if (p->ctx) p->ctx->TryCancel();  // a write blocked on a peer that stopped reading
      if (p->snapshot_ctx) p->snapshot_ctx->TryCancel();
    }
    for (grpc::ServerContext* ctx : inbound_) ctx->TryCancel();
  }
  for (auto& [id, p] : peers_) p->thread.join();
}

}  // namespace dfs::raft
