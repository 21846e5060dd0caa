// DataTransferServer::SendBlock: streams a replica to a reader, verifying it on the way.
#include "common/crc32c.h"
#include "common/frame.h"
#include "common/logging.h"
#include "datanode/data_transfer.h"

namespace dfs {

namespace {
constexpr size_t kReadPacketBytes = 512 << 10;

Status Respond(Socket& s, const Status& st, uint64_t length) {
  proto::OpResponse resp;
  resp.set_code(static_cast<int>(st.code()));
  resp.set_message(st.message());
  resp.set_block_length(length);
  return WriteMessage(s, resp);
}
}  // namespace

void DataTransferServer::SendBlock(Socket& sock, const proto::ReadBlockOp& op) {
  auto info = store_->Find(op.block().id(), op.block().generation_stamp());
  if (!info.ok()) {
    Respond(sock, info.status(), 0);
    return;
  }
  uint64_t length = info->num_bytes;
  if (op.offset() > length) {
    Respond(sock,
            OutOfRange("offset " + std::to_string(op.offset()) + " is past the end of block " +
                       std::to_string(op.block().id()) + " (" + std::to_string(length) +
                       " bytes)"),
            length);
    return;
  }
  auto reader = store_->OpenReader(*info);
  if (!reader.ok()) {
    Respond(sock, reader.status(), 0);
    return;
  }
  uint64_t end = op.length() == 0 ? length : std::min(length, op.offset() + op.length());
  if (!Respond(sock, Status::Ok(), length).ok()) return;

  // Packets start on chunk boundaries so the reader can check every CRC.
  uint64_t pos = op.offset() - op.offset() % kBytesPerChecksum;
  std::vector<char> data(kReadPacketBytes);
  std::vector<uint32_t> crcs(ChunkCount(kReadPacketBytes));
  int64_t seqno = 0;
  while (pos < end) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kReadPacketBytes, end - pos));
    // Whole chunks, so the stored CRCs apply (the last chunk of the block may be short).
    uint64_t chunk_end = std::min<uint64_t>(length, (pos + n + kBytesPerChecksum - 1) /
                                                        kBytesPerChecksum * kBytesPerChecksum);
    n = static_cast<size_t>(chunk_end - pos);
    Status s = (*reader)->Read(pos, n, data.data(), crcs.data());
    if (!s.ok()) {
      if (s.code() == Code::kDataLoss) {
        spdlog::warn("replica of block {} is corrupt: {}", op.block().id(), s.message());
        if (hooks_.replica_corrupt) hooks_.replica_corrupt(op.block());
      }
      proto::PacketHeader h;
      h.set_seqno(-1);
      h.set_offset_in_block(pos);
      WritePacket(sock, h, nullptr, nullptr, 0);  // data_len 0 and not last: an error marker
      return;
    }
    proto::PacketHeader h;
    h.set_seqno(seqno++);
    h.set_offset_in_block(pos);
    h.set_data_len(static_cast<uint32_t>(n));
    if (!WritePacket(sock, h, crcs.data(), data.data(), n).ok()) return;
    pos += n;
  }
  proto::PacketHeader h;
  h.set_seqno(seqno);
  h.set_offset_in_block(pos - pos % kBytesPerChecksum);
  h.set_last(true);
  WritePacket(sock, h, nullptr, nullptr, 0);
}

}  // namespace dfs
