// Small helpers shared by the integration tests.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "client/file_system.h"
#include "client/input_stream.h"
#include "client/output_stream.h"

namespace dfs {

inline Status WriteFile(FileSystem* fs, const std::string& path, const std::string& data,
                        CreateOptions o = {}) {
  ASSIGN_OR_RETURN(auto out, fs->Create(path, o));
  // Odd-sized writes, so packets and blocks are cut in the middle of a write.
  for (size_t off = 0; off < data.size(); off += 1'000'003) {
    RETURN_IF_ERROR(out->Write(data.data() + off, std::min<size_t>(1'000'003, data.size() - off)));
  }
  return out->Close();
}

inline Result<std::string> ReadFile(FileSystem* fs, const std::string& path) {
  ASSIGN_OR_RETURN(auto in, fs->Open(path));
  std::string data(in->length(), '\0');
  size_t done = 0;
  while (done < data.size()) {
    ASSIGN_OR_RETURN(size_t n, in->Read(data.data() + done, data.size() - done));
    if (n == 0) return DataLoss("file ended early at " + std::to_string(done));
    done += n;
  }
  ASSIGN_OR_RETURN(size_t extra, in->Read(data.data(), 1));
  if (extra != 0) return DataLoss("file is longer than its length");
  return data;
}

// Polls cond until it holds or the deadline passes.
inline bool WaitFor(const std::function<bool()>& cond, int64_t timeout_ms = 20'000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

inline Result<proto::GetBlockLocationsResponse> Locations(FileSystem* fs, const std::string& path) {
  proto::GetBlockLocationsRequest req;
  req.set_path(path);
  proto::GetBlockLocationsResponse resp;
  RETURN_IF_ERROR(
      fs->Call([&](grpc::ClientContext* c) { return fs->stub()->GetBlockLocations(c, req, &resp); }));
  return resp;
}

#define ASSERT_OK(expr)                              \
  do {                                               \
    ::dfs::Status _s = (expr);                       \
    ASSERT_TRUE(_s.ok()) << _s.ToString();           \
  } while (0)

}  // namespace dfs
