#include "common/frame.h"

#include <arpa/inet.h>

#include <cstring>
#include <string>

#include "common/crc32c.h"

namespace dfs {

Status WriteMessage(Socket& s, const google::protobuf::MessageLite& msg) {
  std::string buf;
  uint32_t len = static_cast<uint32_t>(msg.ByteSizeLong());
  buf.resize(4);
  uint32_t be = htonl(len);
  memcpy(buf.data(), &be, 4);
  msg.AppendToString(&buf);
  return s.WriteFull(buf.data(), buf.size());
}

Status ReadMessage(Socket& s, google::protobuf::MessageLite* msg, uint32_t max_bytes) {
  uint32_t be;
  RETURN_IF_ERROR(s.ReadFull(&be, 4));
  uint32_t len = ntohl(be);
  if (len > max_bytes) {
    return InvalidArgument("message of " + std::to_string(len) + " bytes exceeds the limit of " +
                           std::to_string(max_bytes));
  }
  std::string buf(len, '\0');
  RETURN_IF_ERROR(s.ReadFull(buf.data(), len));
  if (!msg->ParseFromString(buf)) return InvalidArgument("malformed protocol message");
  return Status::Ok();
}

Status WritePacket(Socket& s, const proto::PacketHeader& header, const uint32_t* crcs,
                   const char* data, size_t len) {
  std::string hdr;
  hdr.resize(4);
  uint32_t be = htonl(static_cast<uint32_t>(header.ByteSizeLong()));
  memcpy(hdr.data(), &be, 4);
  header.AppendToString(&hdr);
  struct iovec iov[3] = {
      {hdr.data(), hdr.size()},
      {const_cast<uint32_t*>(crcs), ChunkCount(len) * 4},
      {const_cast<char*>(data), len},
  };
  return s.WriteV(iov, 3);
}

Status ReadPacket(Socket& s, Packet* p) {
  RETURN_IF_ERROR(ReadMessage(s, &p->header, 256));
  uint32_t len = p->header.data_len();
  if (len > kMaxPacketData) {
    return InvalidArgument("packet of " + std::to_string(len) + " bytes exceeds the limit of " +
                           std::to_string(kMaxPacketData));
  }
  if (p->header.offset_in_block() % kBytesPerChecksum != 0) {
    return InvalidArgument("packet offset " + std::to_string(p->header.offset_in_block()) +
                           " is not a multiple of the 512-byte chunk");
  }
  p->crcs.resize(ChunkCount(len));
  p->data.resize(len);
  RETURN_IF_ERROR(s.ReadFull(p->crcs.data(), p->crcs.size() * 4));
  return s.ReadFull(p->data.data(), len);
}

}  // namespace dfs
