#include <sys/socket.h>

#include <chrono>

#include "common/frame.h"
#include "common/logging.h"
#include "datanode/data_transfer.h"

namespace dfs {

DataTransferServer::~DataTransferServer() { Stop(); }

Result<uint16_t> DataTransferServer::Start(const std::string& host, uint16_t port) {
  ASSIGN_OR_RETURN(listener_, Listen(host, port));
  uint16_t bound = LocalPort(listener_);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  return bound;
}

void DataTransferServer::Stop() {
  if (stopping_.exchange(true)) return;
  listener_.Shutdown();
  if (accept_thread_.joinable()) accept_thread_.join();
  {
    std::lock_guard<std::mutex> l(conns_mu_);
    for (int fd : conns_) ::shutdown(fd, SHUT_RDWR);
  }
  for (int i = 0; i < 500 && threads_.load() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  listener_.Close();
}

void DataTransferServer::AcceptLoop() {
  while (!stopping_) {
    auto s = Accept(listener_);
    if (!s.ok()) {
      if (stopping_) return;
      spdlog::warn("accept failed: {}", s.status().ToString());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    ++threads_;
    std::thread([this, sock = std::move(*s)]() mutable {
      int fd = sock.fd();
      {
        std::lock_guard<std::mutex> l(conns_mu_);
        conns_.insert(fd);
      }
      Serve(std::move(sock));
      {
        std::lock_guard<std::mutex> l(conns_mu_);
        conns_.erase(fd);
      }
      --threads_;
    }).detach();
  }
}

void DataTransferServer::Serve(Socket sock) {
  if (!sock.SetTimeoutMs(60'000).ok()) return;
  proto::OpRequest req;
  Status s = ReadMessage(sock, &req);
  if (!s.ok()) {
    proto::OpResponse resp;
    resp.set_code(static_cast<int>(s.code()));
    resp.set_message("bad request: " + s.message());
    WriteMessage(sock, resp);
    return;
  }
  ++active_;
  switch (req.op_case()) {
    case proto::OpRequest::kWrite: ReceiveBlock(sock, req.write()); break;
    case proto::OpRequest::kRead: SendBlock(sock, req.read()); break;
    default: {
      proto::OpResponse resp;
      resp.set_code(static_cast<int>(Code::kInvalidArgument));
      resp.set_message("request names no operation");
      WriteMessage(sock, resp);
    }
  }
  --active_;
}

}  // namespace dfs
