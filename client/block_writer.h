// BlockWriter: streams one block into a pipeline of datanodes (client -> dn1 -> dn2 ->
// dn3). Data is cut into packets with one CRC32C per 512-byte chunk; up to a window of
// packets are in flight while a second thread reads the acks coming back.
//
// Used by the client's OutputStream and by datanodes replicating a block. One thread
// calls Write and Close.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/net.h"
#include "common/status.h"
#include "proto/common.pb.h"

namespace dfs {

inline constexpr size_t kPacketBytes = 1 << 20;
inline constexpr size_t kMaxPacketsInFlight = 8;

class BlockWriter {
 public:
  ~BlockWriter();

  // Connects to pipeline[0] and sets up the pipeline. On failure the status message names
  // the datanode that could not be reached, and *bad_node (if given) gets its uuid.
  static Result<std::unique_ptr<BlockWriter>> Open(const proto::Block& block,
                                                   const std::vector<proto::DatanodeId>& pipeline,
                                                   const std::string& client_name,
                                                   std::string* bad_node = nullptr);

  // Appends bytes to the block.
  Status Write(const char* data, size_t len);
  // Sends what is buffered and waits until every datanode has acknowledged it (hflush);
  // with sync, each datanode also makes it durable on disk first (hsync).
  Status Flush(bool sync);
  // Sends what is buffered and the closing packet, and waits until every datanode in the
  // pipeline has acknowledged everything. Returns the block with its final length.
  Result<proto::Block> Close();
  uint64_t bytes() const { return bytes_sent_ + buf_.size(); }
  const proto::Block& block() const { return block_; }
  const std::vector<proto::DatanodeId>& pipeline() const { return pipeline_; }
  // After a failure: the uuid of the datanode the pipeline lost ("" if unknown).
  std::string failed_datanode();

  // Sends one packet whose CRCs are already known (the datanode replication path).
  Status WritePacket(const char* data, size_t len, const uint32_t* crcs);

 private:
  BlockWriter(proto::Block block, Socket sock, std::vector<proto::DatanodeId> pipeline)
      : block_(std::move(block)), sock_(std::move(sock)), pipeline_(std::move(pipeline)) {}
  // Sends buf_ as one packet. keep_partial_chunk: a trailing partial chunk stays in buf_
  // to be sent again, completed, with the next packet (after a flush).
  Status SendBuffered(bool sync = false, bool keep_partial_chunk = false);
  Status WaitForAcks(int64_t seqno);
  Status SendPacket(const char* data, size_t len, const uint32_t* crcs, bool sync);
  void AckLoop();
  Status Failure();

  proto::Block block_;
  Socket sock_;
  std::vector<proto::DatanodeId> pipeline_;
  std::vector<char> buf_;
  std::vector<uint32_t> crcs_;
  uint64_t bytes_sent_ = 0;
  int64_t next_seqno_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  int64_t acked_seqno_ = -1;  // guarded by mu_
  Status ack_error_;          // guarded by mu_
  bool ack_done_ = false;     // guarded by mu_
  int64_t last_seqno_ = -2;   // guarded by mu_: the closing packet, once sent
  std::string failed_datanode_;  // guarded by mu_
  std::thread ack_thread_;
};

}  // namespace dfs
