// Transport: carries Raft messages between the replicas of a namenode group over gRPC,
// on the node's own port and threads.
//
// Contract: Send never blocks. Each peer has a sender thread that keeps one
// RaftTransport.Send stream open to it and writes every message queued meanwhile as one
// batch, so entries batch up naturally while a write is in flight. Delivery is best
// effort, as Raft expects: a write that fails drops its messages, closes the stream (the
// next batch opens another) and the handler hears OnUnreachable (the core then probes).
// A write that succeeds is only handed to gRPC: it is lost if the stream dies before the
// peer reads it (Raft recovers through the next heartbeat). A write blocks while the
// peer's receive window is full; keepalive pings break the connection to a peer that
// stopped answering within ~4 s. A stream idle for 500 ms is replaced before it is
// written to (it may lead to a peer's previous run). A kSnapshot message is preceded by
// the snapshot's data, streamed from SnapshotPath(index) in 1 MiB chunks; the handler
// hears OnSnapshotSent either way.
// The receiving side writes the chunks to a temporary file, syncs it, renames it to
// SnapshotPath(index) and only then hands the kSnapshot message on.
//
// Addresses come from the membership (SetAddresses); a node also learns the address
// of whoever sends it a batch, so it can answer a node it has not heard of yet (a new
// learner, or a leader elected before this node saw its conf change).
//
// Thread safety: thread-safe. Handler callbacks run on transport threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "common/status.h"
#include "namenode/raft/messages.h"
#include "proto/raft.grpc.pb.h"

namespace dfs::raft {

class TransportHandler {
 public:
  virtual ~TransportHandler() = default;
  virtual void OnMessages(std::vector<Message> messages) = 0;
  virtual void OnUnreachable(NodeId peer) = 0;
  virtual void OnSnapshotSent(NodeId peer, bool delivered) = 0;
};

class Transport {
 public:
  // snapshot_dir holds snapshot files (SnapshotPath); own_address is announced to peers.
  Transport(NodeId self, std::string own_address, std::string snapshot_dir,
            TransportHandler* handler);
  ~Transport();

  // The service to register on the node's gRPC server.
  grpc::Service* service();

  void SetAddresses(const std::map<NodeId, std::string>& addresses);
  std::string AddressOf(NodeId id);
  void Send(std::vector<Message> messages);
  // Test hook: while cut, nothing is sent to or accepted from other nodes (a partition).
  void SetCut(bool cut) { cut_ = cut; }
  bool cut() const { return cut_; }
  void Stop();

  std::string SnapshotPath(uint64_t index) const;

 private:
  struct Peer;
  class Service;
  Peer* PeerFor(NodeId id);  // REQUIRES: mu_ held
  void SenderLoop(Peer* peer);
  // Writes the messages to the peer's stream, opening it first if needed.
  bool Deliver(Peer* peer, proto::RaftTransport::Stub& stub, const std::vector<Message>& messages);
  void CloseStream(Peer* peer);
  bool SendSnapshot(Peer* peer, proto::RaftTransport::Stub& stub, const Message& m);
  // Registers (open) or forgets an inbound stream; false once stopping.
  bool Track(grpc::ServerContext* ctx, bool open);
  void Learn(NodeId id, const std::string& address);

  const NodeId self_;
  const std::string own_address_;
  const std::string snapshot_dir_;
  TransportHandler* const handler_;
  std::unique_ptr<Service> service_;
  std::atomic<bool> cut_{false};

  std::mutex mu_;
  std::map<NodeId, std::unique_ptr<Peer>> peers_;  // guarded by mu_
  std::set<grpc::ServerContext*> inbound_;         // guarded by mu_: open Send streams
  bool stopping_ = false;                          // guarded by mu_
};

}  // namespace dfs::raft
