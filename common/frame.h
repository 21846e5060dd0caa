// Framing for the data-transfer protocol (proto/datatransfer.proto): length-prefixed
// protobuf messages and packets (header + per-chunk CRC32Cs + raw data).
// Stateless functions; the Socket's threading rules apply.
#pragma once

#include <google/protobuf/message_lite.h>

#include <cstdint>
#include <vector>

#include "common/net.h"
#include "common/status.h"
#include "proto/datatransfer.pb.h"

namespace dfs {

inline constexpr uint32_t kMaxMessageBytes = 1 << 20;
inline constexpr uint32_t kMaxPacketData = 16 << 20;

Status WriteMessage(Socket& s, const google::protobuf::MessageLite& msg);
// Refuses (InvalidArgument) a frame longer than max_bytes without reading it.
Status ReadMessage(Socket& s, google::protobuf::MessageLite* msg,
                   uint32_t max_bytes = kMaxMessageBytes);

// A packet's payload: crcs[i] covers data[i*512, (i+1)*512).
struct Packet {
  proto::PacketHeader header;
  std::vector<uint32_t> crcs;
  std::vector<char> data;
};

// Sends header, crcs and data in one writev. data_len in the header must equal len.
Status WritePacket(Socket& s, const proto::PacketHeader& header, const uint32_t* crcs,
                   const char* data, size_t len);
// Reads one packet into p, reusing its buffers. Refuses data_len over kMaxPacketData.
Status ReadPacket(Socket& s, Packet* p);

}  // namespace dfs
