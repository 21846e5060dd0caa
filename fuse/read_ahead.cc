#include "fuse/read_ahead.h"

#include <algorithm>
#include <cstring>

namespace dfs {

void ReadAhead::TakeStream(std::unique_lock<std::mutex>& l) {
  cv_.wait(l, [&] { return !busy_; });
  busy_ = true;
}

void ReadAhead::GiveStream() {
  busy_ = false;
  cv_.notify_all();
}

ReadAhead::Chunk ReadAhead::Cached(uint64_t index) const {
  for (const auto& [i, c] : chunks_) {
    if (i == index) return c;
  }
  return nullptr;
}

Result<ReadAhead::Chunk> ReadAhead::ReadChunk(std::shared_ptr<Buffer> buf) {
  uint64_t start = next_ * kChunkBytes;
  if (!buf) buf = std::make_shared<Buffer>(kChunkBytes);
  buf->size = static_cast<size_t>(std::min(kChunkBytes, length_ - start));
  size_t done = 0;
  while (done < buf->size) {
    ASSIGN_OR_RETURN(size_t got, in_->Read(buf->data.get() + done, buf->size - done));
    if (got == 0) return DataLoss("the file ended early while reading");
    done += got;
  }
  return Chunk(std::move(buf));
}

void ReadAhead::Keep(uint64_t index, Chunk c) {
  chunks_.emplace_back(index, std::move(c));
  if (chunks_.size() <= kChunksKept) return;
  Chunk old = std::move(chunks_.front().second);
  chunks_.pop_front();
  // Reused for a later chunk unless a request is still replying from it.
  if (old.use_count() == 1 && spare_.size() < 2) {
    spare_.push_back(std::const_pointer_cast<Buffer>(std::move(old)));
  }
}

Result<ReadAhead::Chunk> ReadAhead::Get(uint64_t index, bool sequential,
                                        std::unique_lock<std::mutex>& l) {
  for (;;) {
    if (Chunk c = Cached(index)) return c;
    bool near = index >= next_ && index < next_ + kChunksKept;
    if (!near && !sequential) return Chunk(nullptr);
    if (busy_) {  // another thread may be reading it right now
      cv_.wait(l);
      continue;
    }
    busy_ = true;
    if (!near) {
      // Start the stream over at the request (a jump, then reading on in order).
      Status s = in_->Seek(index * kChunkBytes);
      if (!s.ok()) {
        GiveStream();
        return s;
      }
      next_ = index;
      chunks_.clear();
    }
    while (next_ <= index) {
      std::shared_ptr<Buffer> buf;
      if (!spare_.empty()) {
        buf = std::move(spare_.back());
        spare_.pop_back();
      }
      l.unlock();
      auto c = ReadChunk(std::move(buf));
      l.lock();
      if (!c.ok()) {
        // The stream stands anywhere now: start it over at the next request.
        next_ = UINT64_MAX / kChunkBytes;
        GiveStream();
        return c.status();
      }
      Keep(next_++, std::move(*c));
      cv_.notify_all();
    }
    GiveStream();
  }
}

Result<ReadAhead::Data> ReadAhead::PRead(uint64_t off, size_t n, std::unique_lock<std::mutex>& l) {
  auto buf = std::make_shared<Buffer>(n);
  TakeStream(l);
  l.unlock();
  size_t done = 0;
  Status s;
  while (done < n) {
    auto got = in_->PRead(off + done, buf->data.get() + done, n - done);
    if (!got.ok()) s = got.status();
    if (!got.ok() || *got == 0) break;
    done += *got;
  }
  l.lock();
  GiveStream();
  if (!s.ok()) return s;
  return Data{std::string_view(buf->data.get(), done), std::move(buf)};
}

Result<ReadAhead::Data> ReadAhead::Read(uint64_t off, size_t n) {
  std::unique_lock<std::mutex> l(mu_);
  if (off >= length_ || n == 0) return Data{};
  n = static_cast<size_t>(std::min<uint64_t>(n, length_ - off));
  bool sequential = off == last_end_ || off == 0;
  last_end_ = off + n;
  uint64_t first = off / kChunkBytes;
  uint64_t last = (off + n - 1) / kChunkBytes;
  ASSIGN_OR_RETURN(Chunk c, Get(first, sequential, l));
  if (!c) {
    in_order_ = false;
    return PRead(off, n, l);
  }
  in_order_ = true;
  latest_ = std::max(latest_, last);
  size_t at = static_cast<size_t>(off - first * kChunkBytes);
  if (first == last) return Data{std::string_view(c->data.get() + at, n), std::move(c)};
  // Spans two chunks (requests are at most 1 MiB).
  ASSIGN_OR_RETURN(Chunk c2, Get(last, true, l));
  auto buf = std::make_shared<Buffer>(n);
  size_t head = c->size - at;
  memcpy(buf->data.get(), c->data.get() + at, head);
  memcpy(buf->data.get() + head, c2->data.get(), n - head);
  return Data{std::string_view(buf->data.get(), n), std::move(buf)};
}

void ReadAhead::FetchAhead() {
  std::unique_lock<std::mutex> l(mu_);
  uint64_t chunks = (length_ + kChunkBytes - 1) / kChunkBytes;
  uint64_t until = std::min(chunks, latest_ + 1 + kChunksAhead);
  if (closed_ || !in_order_ || busy_ || next_ >= until) return;
  // Reads the chunks up to until - 1 if they are near the stream.
  Get(until - 1, false, l);  // a failure is seen again by the request that needs it
}

void ReadAhead::Close() {
  std::lock_guard<std::mutex> l(mu_);
  closed_ = true;
}

}  // namespace dfs
