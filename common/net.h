// TCP sockets for the data path: a move-only Socket owning a file descriptor, with
// whole-buffer reads and writes and a per-socket I/O timeout. One Socket is used by one
// thread at a time for reading and at most one other thread for writing.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace dfs {

class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() { Close(); }
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&& o) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Close();
  // Wakes a thread blocked on this socket without closing the descriptor.
  void Shutdown();

  // Reads exactly len bytes. A clean end of stream before any byte is OutOfRange.
  Status ReadFull(void* buf, size_t len);
  Status WriteFull(const void* buf, size_t len);
  // Writes all of iov (modified in place).
  Status WriteV(struct iovec* iov, int iovcnt);
  Status SetTimeoutMs(int64_t ms);

 private:
  int fd_ = -1;
};

// Listens on host:port (port 0 picks a free port). Returns the listening socket.
Result<Socket> Listen(const std::string& host, uint16_t port);
// The local port a socket is bound to.
uint16_t LocalPort(const Socket& s);
Result<Socket> Accept(Socket& listener);
Result<Socket> Connect(const std::string& host, uint16_t port, int64_t timeout_ms);

// Splits "host:port". Refuses a missing or out-of-range port.
Result<std::pair<std::string, uint16_t>> SplitHostPort(const std::string& addr);

}  // namespace dfs
