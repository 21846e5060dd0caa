// BlockReader: reads a range of one block from one datanode, checking every chunk's
// CRC32C. A checksum mismatch (or the datanode finding its replica corrupt) is DataLoss,
// so the caller can report the replica and try another. One thread uses a BlockReader.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/frame.h"
#include "common/net.h"
#include "proto/common.pb.h"

namespace dfs {

class BlockReader {
 public:
  // Starts reading [offset, offset+length) of block from the datanode.
  static Result<std::unique_ptr<BlockReader>> Open(const proto::DatanodeId& dn,
                                                   const proto::Block& block, uint64_t offset,
                                                   uint64_t length);
  // Reads up to n bytes; 0 at the end of the range.
  Result<size_t> Read(char* buf, size_t n);

 private:
  BlockReader(Socket sock, uint64_t offset, uint64_t end, std::string where)
      : sock_(std::move(sock)), pos_(offset), end_(end), where_(std::move(where)) {}
  Status NextPacket();

  Socket sock_;
  uint64_t pos_;  // block offset of the next byte to return
  uint64_t end_;
  std::string where_;
  Packet packet_;
  size_t packet_pos_ = 0;     // index in packet_.data of pos_
  uint64_t packet_start_ = 0; // block offset of packet_.data[0]
  bool done_ = false;
};

}  // namespace dfs
