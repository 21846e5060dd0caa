#include "client/block_reader.h"

#include <cstring>

#include "common/crc32c.h"

namespace dfs {

Result<std::unique_ptr<BlockReader>> BlockReader::Open(const proto::DatanodeId& dn,
                                                       const proto::Block& block,
                                                       uint64_t offset, uint64_t length) {
  std::string where = dn.host() + ":" + std::to_string(dn.data_port());
  auto sock = Connect(dn.host(), static_cast<uint16_t>(dn.data_port()), 5000);
  if (!sock.ok()) return Unavailable("cannot reach datanode " + where);
  RETURN_IF_ERROR(sock->SetTimeoutMs(60'000));
  proto::OpRequest req;
  auto* r = req.mutable_read();
  *r->mutable_block() = block;
  r->set_offset(offset);
  r->set_length(length);
  RETURN_IF_ERROR(WriteMessage(*sock, req));
  proto::OpResponse resp;
  RETURN_IF_ERROR(ReadMessage(*sock, &resp));
  if (resp.code() != 0) {
    return Status(static_cast<Code>(resp.code()), "datanode " + where + ": " + resp.message());
  }
  uint64_t end = std::min(resp.block_length(), offset + length);
  return std::unique_ptr<BlockReader>(new BlockReader(std::move(*sock), offset, end, where));
}

Status BlockReader::NextPacket() {
  Status s = ReadPacket(sock_, &packet_);
  if (!s.ok()) return Unavailable("reading from datanode " + where_ + ": " + s.message());
  const auto& h = packet_.header;
  if (h.seqno() < 0) {
    return DataLoss("datanode " + where_ + " found its replica corrupt at offset " +
                    std::to_string(h.offset_in_block()));
  }
  if (h.last()) {
    done_ = true;
    return Status::Ok();
  }
  if (h.offset_in_block() > pos_ || h.offset_in_block() + h.data_len() <= pos_) {
    return DataLoss("datanode " + where_ + " sent offset " + std::to_string(h.offset_in_block()) +
                    ", expected " + std::to_string(pos_));
  }
  long bad = FirstBadChunk(packet_.data.data(), packet_.data.size(), packet_.crcs.data());
  if (bad >= 0) {
    return DataLoss("checksum mismatch reading from datanode " + where_ + " at block offset " +
                    std::to_string(h.offset_in_block() + bad * kBytesPerChecksum));
  }
  packet_start_ = h.offset_in_block();
  packet_pos_ = static_cast<size_t>(pos_ - packet_start_);
  return Status::Ok();
}

Result<size_t> BlockReader::Read(char* buf, size_t n) {
  if (pos_ >= end_ || n == 0) return size_t{0};
  while (packet_pos_ >= packet_.data.size()) {
    if (done_) return DataLoss("datanode " + where_ + " ended the block early");
    RETURN_IF_ERROR(NextPacket());
  }
  size_t take = std::min<uint64_t>({n, packet_.data.size() - packet_pos_, end_ - pos_});
  memcpy(buf, packet_.data.data() + packet_pos_, take);
  packet_pos_ += take;
  pos_ += take;
  return take;
}

}  // namespace dfs
