// Serves the mount's reads of one open file from its InputStream.
//
// The kernel's readahead sends 128 KiB requests from several threads at once, so they
// arrive slightly out of order; answering each by seeking the stream would drop its
// datanode connection and open another. Instead the stream is read in 1 MiB chunks and
// the last few are kept: a request behind the stream is a memory copy. After answering,
// the thread reads the stream on ahead of the latest request, so the next requests find
// their bytes waiting while the kernel and the reader copy the last ones. A request far
// from the stream (random access) is a positional read of exactly what was asked.
// Up to kChunksKept MiB per file being read.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "client/input_stream.h"

namespace dfs {

class ReadAhead {
 public:
  explicit ReadAhead(std::unique_ptr<InputStream> in)
      : in_(std::move(in)), length_(in_->length()) {}

  // Bytes that are not zero-filled first (every byte is read into).
  struct Buffer {
    explicit Buffer(size_t n) : data(new char[n]), size(n) {}
    std::unique_ptr<char[]> data;
    size_t size;
  };
  struct Data {
    std::string_view bytes;
    std::shared_ptr<const Buffer> keep;  // what bytes points into
  };
  // The bytes [off, off + n) of the file, fewer at its end, none past it. Any thread.
  Result<Data> Read(uint64_t off, size_t n);
  // Reads the stream on ahead of the latest request, if it is being read in order.
  void FetchAhead();
  // The file was released: no more reading ahead.
  void Close();

  static constexpr uint64_t kChunkBytes = 1 << 20;
  static constexpr uint64_t kChunksAhead = 4;  // fetched past the latest request
  static constexpr size_t kChunksKept = 8;

 private:
  using Chunk = std::shared_ptr<const Buffer>;
  // Chunk `index`, read through the stream when it is near (fewer than kChunksKept
  // ahead of it) or `sequential`; null when the request should be a positional read.
  Result<Chunk> Get(uint64_t index, bool sequential, std::unique_lock<std::mutex>& l);
  Chunk Cached(uint64_t index) const;
  // Reads chunk next_ from the stream into buf (a new one if null); called holding the
  // stream (busy_), not mu_.
  Result<Chunk> ReadChunk(std::shared_ptr<Buffer> buf);
  // Adds the chunk read last, forgetting the oldest beyond kChunksKept.
  void Keep(uint64_t index, Chunk c);
  Result<Data> PRead(uint64_t off, size_t n, std::unique_lock<std::mutex>& l);
  // Waits for, then takes, the stream.
  void TakeStream(std::unique_lock<std::mutex>& l);
  void GiveStream();

  std::mutex mu_;
  std::condition_variable cv_;
  bool busy_ = false;  // a thread is using in_
  std::unique_ptr<InputStream> in_;
  const uint64_t length_;  // as of opening, like the stream's
  std::deque<std::pair<uint64_t, Chunk>> chunks_;  // by index, ascending
  std::vector<std::shared_ptr<Buffer>> spare_;     // evicted chunks nobody holds
  uint64_t next_ = 0;        // the chunk the stream reads next
  uint64_t latest_ = 0;      // the highest chunk a request has asked for
  uint64_t last_end_ = 0;    // where the previous request ended
  bool in_order_ = false;    // the latest request was served through the stream
  bool closed_ = false;
};

}  // namespace dfs
