// The datanode's data-transfer service (proto/datatransfer.proto over TCP): one thread
// per connection, each connection one operation.
//  - ReceiveBlock: the write pipeline. Verifies every packet's CRCs before storing it,
//    forwards packets downstream as they arrive, and sends an ack upstream for each packet
//    once it and every datanode downstream have written it.
//  - SendBlock: streams a replica (data with its CRCs), verifying it on the way out.
// Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "common/net.h"
#include "datanode/block_store.h"
#include "proto/datatransfer.pb.h"

namespace dfs {

struct DataTransferHooks {
  std::function<void(const proto::Block&)> block_received;  // finalized replica
  std::function<void(const proto::Block&)> replica_corrupt; // found bad while reading
  std::function<void(const proto::Block&)> replica_unfinished;  // its writer went away
};

class DataTransferServer {
 public:
  DataTransferServer(BlockStore* store, DataTransferHooks hooks)
      : store_(store), hooks_(std::move(hooks)) {}
  ~DataTransferServer();

  // Listens on host:port (0 = any free port); returns the bound port.
  Result<uint16_t> Start(const std::string& host, uint16_t port);
  void Stop();
  uint32_t active_transfers() const { return active_.load(); }

 private:
  void AcceptLoop();
  void Serve(Socket sock);
  void ReceiveBlock(Socket& upstream, const proto::WriteBlockOp& op);
  void SendBlock(Socket& sock, const proto::ReadBlockOp& op);

  BlockStore* store_;
  DataTransferHooks hooks_;
  Socket listener_;
  std::thread accept_thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint32_t> active_{0};
  std::mutex conns_mu_;
  std::set<int> conns_;  // guarded by conns_mu_: fds to shut down on Stop
  std::atomic<int> threads_{0};
};

}  // namespace dfs
