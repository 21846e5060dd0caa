#include "client/block_writer.h"

#include "common/crc32c.h"
#include "common/frame.h"

namespace dfs {

namespace {
constexpr int64_t kConnectTimeoutMs = 5000;
constexpr int64_t kIoTimeoutMs = 60000;
}  // namespace

Result<std::unique_ptr<BlockWriter>> BlockWriter::Open(
    const proto::Block& block, const std::vector<proto::DatanodeId>& pipeline,
    const std::string& client_name, std::string* bad_node) {
  if (pipeline.empty()) return InvalidArgument("empty pipeline");
  const auto& first = pipeline[0];
  std::string where = first.host() + ":" + std::to_string(first.data_port());
  auto sock = Connect(first.host(), static_cast<uint16_t>(first.data_port()), kConnectTimeoutMs);
  if (!sock.ok()) {
    if (bad_node) *bad_node = first.uuid();
    return Unavailable("cannot reach datanode " + where + ": " + sock.status().message());
  }
  RETURN_IF_ERROR(sock->SetTimeoutMs(kIoTimeoutMs));
  proto::OpRequest req;
  auto* w = req.mutable_write();
  *w->mutable_block() = block;
  for (size_t i = 1; i < pipeline.size(); ++i) *w->add_downstream() = pipeline[i];
  w->set_client_name(client_name);
  proto::OpResponse resp;
  Status s = WriteMessage(*sock, req);
  if (s.ok()) s = ReadMessage(*sock, &resp);
  if (!s.ok()) {
    if (bad_node) *bad_node = first.uuid();
    return Unavailable("pipeline setup with " + where + " failed: " + s.message());
  }
  if (resp.code() != 0) {
    if (bad_node) *bad_node = resp.first_bad_link().empty() ? first.uuid() : resp.first_bad_link();
    return Status(static_cast<Code>(resp.code()), "datanode " + where + ": " + resp.message());
  }
  std::unique_ptr<BlockWriter> bw(new BlockWriter(block, std::move(*sock), pipeline));
  bw->buf_.reserve(kPacketBytes);
  bw->crcs_.resize(ChunkCount(kPacketBytes));
  bw->ack_thread_ = std::thread([p = bw.get()] { p->AckLoop(); });
  return bw;
}

BlockWriter::~BlockWriter() {
  sock_.Shutdown();
  if (ack_thread_.joinable()) ack_thread_.join();
}

std::string BlockWriter::failed_datanode() {
  std::lock_guard<std::mutex> l(mu_);
  // A broken connection to the first datanode is that datanode's failure.
  if (failed_datanode_.empty() && !pipeline_.empty()) return pipeline_[0].uuid();
  return failed_datanode_;
}

Status BlockWriter::Failure() {
  std::lock_guard<std::mutex> l(mu_);
  return ack_error_;
}

Status BlockWriter::Write(const char* data, size_t len) {
  // Whole packets straight from the caller's buffer: no copy.
  while (buf_.empty() && len >= kPacketBytes) {
    ChunkCrcs(data, kPacketBytes, crcs_.data());
    RETURN_IF_ERROR(SendPacket(data, kPacketBytes, crcs_.data(), false));
    data += kPacketBytes;
    len -= kPacketBytes;
  }
  while (len > 0) {
    size_t n = std::min(len, kPacketBytes - buf_.size());
    buf_.insert(buf_.end(), data, data + n);
    data += n;
    len -= n;
    if (buf_.size() == kPacketBytes) RETURN_IF_ERROR(SendBuffered());
  }
  return Status::Ok();
}

Status BlockWriter::SendBuffered(bool sync, bool keep_partial_chunk) {
  if (buf_.empty() && !sync) return Status::Ok();
  ChunkCrcs(buf_.data(), buf_.size(), crcs_.data());
  RETURN_IF_ERROR(SendPacket(buf_.data(), buf_.size(), crcs_.data(), sync));
  size_t partial = buf_.size() % kBytesPerChecksum;
  if (keep_partial_chunk && partial != 0) {
    // A flushed partial chunk is sent again, completed, in the next packet.
    bytes_sent_ -= partial;
    buf_.erase(buf_.begin(), buf_.end() - static_cast<long>(partial));
  } else {
    buf_.clear();
  }
  return Status::Ok();
}

Status BlockWriter::WaitForAcks(int64_t seqno) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return !ack_error_.ok() || ack_done_ || acked_seqno_ >= seqno; });
  if (!ack_error_.ok()) return ack_error_;
  if (acked_seqno_ < seqno) return Unavailable("pipeline closed before the last ack");
  return Status::Ok();
}

Status BlockWriter::Flush(bool sync) {
  RETURN_IF_ERROR(SendBuffered(sync, /*keep_partial_chunk=*/true));
  return WaitForAcks(next_seqno_ - 1);
}

Status BlockWriter::WritePacket(const char* data, size_t len, const uint32_t* crcs) {
  return SendPacket(data, len, crcs, false);
}

Status BlockWriter::SendPacket(const char* data, size_t len, const uint32_t* crcs, bool sync) {
  {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] {
      return !ack_error_.ok() || ack_done_ ||
             next_seqno_ - acked_seqno_ <= static_cast<int64_t>(kMaxPacketsInFlight);
    });
    if (!ack_error_.ok()) return ack_error_;
  }
  proto::PacketHeader h;
  h.set_seqno(next_seqno_++);
  h.set_offset_in_block(bytes_sent_);
  h.set_data_len(static_cast<uint32_t>(len));
  h.set_sync(sync);
  Status s = dfs::WritePacket(sock_, h, crcs, data, len);
  if (!s.ok()) {
    Status f = Failure();
    return f.ok() ? Unavailable("sending to the pipeline failed: " + s.message()) : f;
  }
  bytes_sent_ += len;
  return Status::Ok();
}

Result<proto::Block> BlockWriter::Close() {
  RETURN_IF_ERROR(SendBuffered());
  proto::PacketHeader h;
  int64_t last = next_seqno_++;
  {
    std::lock_guard<std::mutex> l(mu_);
    last_seqno_ = last;
  }
  h.set_seqno(last);
  h.set_offset_in_block(bytes_sent_ - bytes_sent_ % kBytesPerChecksum);
  h.set_data_len(0);
  h.set_last(true);
  Status s = dfs::WritePacket(sock_, h, nullptr, nullptr, 0);
  if (!s.ok()) {
    Status f = Failure();
    return f.ok() ? Unavailable("sending to the pipeline failed: " + s.message()) : f;
  }
  RETURN_IF_ERROR(WaitForAcks(last));
  proto::Block b = block_;
  b.set_num_bytes(bytes_sent_);
  return b;
}

void BlockWriter::AckLoop() {
  proto::PipelineAck ack;
  for (;;) {
    Status s = ReadMessage(sock_, &ack);
    std::lock_guard<std::mutex> l(mu_);
    if (!s.ok()) {
      if (ack_error_.ok() && !ack_done_) {
        ack_error_ = Unavailable("lost the pipeline's acks: " + s.message());
      }
      ack_done_ = true;
      cv_.notify_all();
      return;
    }
    for (int i = 0; i < ack.codes_size(); ++i) {
      if (ack.codes(i) != 0) {
        if (i < static_cast<int>(pipeline_.size())) failed_datanode_ = pipeline_[i].uuid();
        std::string who = i < static_cast<int>(pipeline_.size())
                              ? pipeline_[i].host() + ":" + std::to_string(pipeline_[i].data_port())
                              : "?";
        ack_error_ = Status(static_cast<Code>(ack.codes(i)),
                            "datanode " + who + " failed packet " + std::to_string(ack.seqno()) +
                                ": " + ack.message());
        ack_done_ = true;
        cv_.notify_all();
        return;
      }
    }
    acked_seqno_ = ack.seqno();
    cv_.notify_all();
    if (acked_seqno_ == last_seqno_) {
      ack_done_ = true;
      return;
    }
  }
}

}  // namespace dfs
