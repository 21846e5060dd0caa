#include "datanode/block_scanner.h"

#include <chrono>
#include <vector>

#include "common/crc32c.h"
#include "common/logging.h"

namespace dfs {

namespace {
constexpr size_t kScanChunk = 1 << 20;
}

BlockScanner::BlockScanner(BlockStore* store, uint64_t bytes_per_second, int64_t period_ms,
                           std::function<void(const proto::Block&)> corrupt)
    : store_(store),
      bytes_per_second_(bytes_per_second),
      period_ms_(period_ms),
      corrupt_(std::move(corrupt)) {}

BlockScanner::~BlockScanner() { Stop(); }

void BlockScanner::Start() { thread_ = std::thread([this] { Loop(); }); }

void BlockScanner::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

bool BlockScanner::SleepMs(int64_t ms) {
  std::unique_lock<std::mutex> l(mu_);
  return !cv_.wait_for(l, std::chrono::milliseconds(ms), [&] { return stopping_; });
}

Status BlockScanner::Verify(const ReplicaInfo& r) {
  ASSIGN_OR_RETURN(auto reader, store_->OpenReader(r));
  std::vector<char> data(kScanChunk);
  std::vector<uint32_t> crcs(ChunkCount(kScanChunk));
  for (uint64_t pos = 0; pos < r.num_bytes;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kScanChunk, r.num_bytes - pos));
    RETURN_IF_ERROR(reader->Read(pos, n, data.data(), crcs.data()));
    pos += n;
    // Throttle: each chunk "costs" n / rate seconds.
    if (bytes_per_second_ > 0 && !SleepMs(static_cast<int64_t>(n * 1000 / bytes_per_second_))) {
      return Status::Ok();
    }
  }
  return Status::Ok();
}

void BlockScanner::Loop() {
  while (true) {
    auto start = std::chrono::steady_clock::now();
    for (const auto& b : store_->Report()) {
      {
        std::lock_guard<std::mutex> l(mu_);
        if (stopping_) return;
      }
      auto info = store_->Find(b.id(), b.generation_stamp());
      if (!info.ok()) continue;  // deleted meanwhile
      Status s = Verify(*info);
      if (s.code() == Code::kDataLoss || s.code() == Code::kNotFound) {
        spdlog::warn("block scanner: replica of block {} is bad: {}", b.id(), s.message());
        store_->Delete(b.id());
        if (corrupt_) corrupt_(b);
      }
    }
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    if (!SleepMs(std::max<int64_t>(period_ms_ - took, 10))) return;
  }
}

}  // namespace dfs
