// DataTransferServer::ReceiveBlock: one datanode's part of a write pipeline.
#include <condition_variable>
#include <deque>

#include "common/crc32c.h"
#include "common/frame.h"
#include "common/logging.h"
#include "datanode/data_transfer.h"

namespace dfs {

namespace {

constexpr int kMaxPipelineLength = 16;

struct AckItem {
  int64_t seqno;
  Status status;
  bool last;
  bool abort;  // upstream is gone: send nothing more
};

// Hands packets' outcomes from the receiving thread to the responder thread, in order.
class AckQueue {
 public:
  void Push(AckItem item) {
    std::lock_guard<std::mutex> l(mu_);
    items_.push_back(std::move(item));
    cv_.notify_one();
  }
  AckItem Pop() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !items_.empty(); });
    AckItem item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<AckItem> items_;
};

Status Respond(Socket& s, const Status& st, const std::string& bad_link = "") {
  proto::OpResponse resp;
  resp.set_code(static_cast<int>(st.code()));
  resp.set_message(st.message());
  resp.set_first_bad_link(bad_link);
  return WriteMessage(s, resp);
}

// Sends acks upstream: this datanode's outcome for each packet, followed by those of
// every datanode downstream.
void RespondLoop(AckQueue* q, Socket* upstream, Socket* downstream) {
  for (;;) {
    AckItem item = q->Pop();
    if (item.abort) return;
    proto::PipelineAck out;
    out.set_seqno(item.seqno);
    out.add_codes(static_cast<int>(item.status.code()));
    out.set_message(item.status.message());
    if (downstream && item.status.ok()) {
      proto::PipelineAck in;
      Status s = ReadMessage(*downstream, &in);
      if (!s.ok()) {
        out.add_codes(static_cast<int>(Code::kUnavailable));
        out.set_message("downstream datanode lost: " + s.message());
      } else if (in.seqno() != item.seqno) {
        out.add_codes(static_cast<int>(Code::kInternal));
        out.set_message("downstream acked packet " + std::to_string(in.seqno()) + ", expected " +
                        std::to_string(item.seqno));
      } else {
        for (int c : in.codes()) out.add_codes(c);
        if (!in.message().empty()) out.set_message(in.message());
      }
    }
    bool failed = false;
    for (int c : out.codes()) failed |= c != 0;
    if (!WriteMessage(*upstream, out).ok() || failed || item.last) return;
  }
}

}  // namespace

void DataTransferServer::ReceiveBlock(Socket& upstream, const proto::WriteBlockOp& op) {
  const proto::Block& block = op.block();
  if (block.id() == 0 || op.downstream_size() > kMaxPipelineLength) {
    Respond(upstream, InvalidArgument("write request needs a block id and a pipeline of at most " +
                                      std::to_string(kMaxPipelineLength)));
    return;
  }
  auto writer = store_->Create(block);
  if (!writer.ok()) {
    Respond(upstream, writer.status());
    return;
  }
  std::unique_ptr<ReplicaWriter> replica = std::move(*writer);

  Socket downstream;
  if (op.downstream_size() > 0) {
    const auto& next = op.downstream(0);
    std::string where = next.host() + ":" + std::to_string(next.data_port());
    auto sock = Connect(next.host(), static_cast<uint16_t>(next.data_port()), 5000);
    if (!sock.ok()) {
      Respond(upstream, Unavailable("cannot reach downstream datanode " + where), next.uuid());
      return;
    }
    downstream = std::move(*sock);
    downstream.SetTimeoutMs(60'000);
    proto::OpRequest req;
    auto* w = req.mutable_write();
    *w->mutable_block() = block;
    for (int i = 1; i < op.downstream_size(); ++i) *w->add_downstream() = op.downstream(i);
    w->set_client_name(op.client_name());
    w->set_access_token(op.access_token());
    proto::OpResponse resp;
    Status s = WriteMessage(downstream, req);
    if (s.ok()) s = ReadMessage(downstream, &resp);
    if (!s.ok() || resp.code() != 0) {
      std::string bad = resp.first_bad_link().empty() ? next.uuid() : resp.first_bad_link();
      Respond(upstream, Unavailable("pipeline setup failed at " + where + ": " +
                                    (s.ok() ? resp.message() : s.message())),
              bad);
      return;
    }
  }
  if (!Respond(upstream, Status::Ok()).ok()) return;

  AckQueue acks;
  Socket* down = downstream.valid() ? &downstream : nullptr;
  std::thread responder([&] { RespondLoop(&acks, &upstream, down); });
  Packet p;
  bool upstream_gone = false;
  for (;;) {
    Status s = ReadPacket(upstream, &p);
    if (!s.ok()) {
      spdlog::warn("block {}: upstream failed: {}", block.id(), s.message());
      acks.Push({0, s, false, true});
      upstream_gone = true;
      break;
    }
    const auto& h = p.header;
    if (!h.last() && !replica->AcceptsOffset(h.offset_in_block())) {
      acks.Push({h.seqno(),
                 InvalidArgument("packet at offset " + std::to_string(h.offset_in_block()) +
                                 ", expected " + std::to_string(replica->bytes())),
                 false, false});
      break;
    }
    long bad = FirstBadChunk(p.data.data(), p.data.size(), p.crcs.data());
    if (bad >= 0) {
      spdlog::warn("block {}: checksum mismatch in packet {} from upstream; refusing the block",
                   block.id(), h.seqno());
      acks.Push({h.seqno(),
                 DataLoss("checksum mismatch at block offset " +
                          std::to_string(h.offset_in_block() + bad * kBytesPerChecksum)),
                 false, false});
      break;
    }
    if (down) {
      Status fs = WritePacket(*down, h, p.crcs.data(), p.data.data(), p.data.size());
      if (!fs.ok()) spdlog::warn("block {}: forwarding downstream failed: {}", block.id(), fs.message());
    }
    if (!p.data.empty() || h.sync()) {
      Status ws;
      if (!p.data.empty()) {
        ws = replica->Write(h.offset_in_block(), p.data.data(), p.data.size(), p.crcs.data(),
                            p.crcs.size());
      }
      if (ws.ok() && h.sync()) ws = replica->Sync();
      if (!ws.ok()) {
        acks.Push({h.seqno(), ws, false, false});
        break;
      }
    }
    if (h.last()) {
      auto done = replica->Finalize();
      if (!done.ok()) {
        acks.Push({h.seqno(), done.status(), true, false});
        break;
      }
      proto::Block b = block;
      b.set_num_bytes(done->num_bytes);
      if (hooks_.block_received) hooks_.block_received(b);
      acks.Push({h.seqno(), Status::Ok(), true, false});
      break;
    }
    acks.Push({h.seqno(), Status::Ok(), false, false});
  }
  responder.join();
  if (down) down->Shutdown();
  if (upstream_gone && !replica->finalized()) {
    // The writer may be dead: what this replica holds is kept for lease recovery (or
    // deleted by the namenode if the writer goes on with another pipeline).
    ReplicaInfo kept = replica->Keep();
    proto::Block b = block;
    b.set_num_bytes(kept.num_bytes);
    if (hooks_.replica_unfinished) hooks_.replica_unfinished(b);
  }
  replica.reset();  // deletes the replica unless it was finalized or kept
}

}  // namespace dfs
