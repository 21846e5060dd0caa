#include "mapreduce/line_reader.h"

#include <cstring>

namespace dfs::mr {

namespace {
constexpr size_t kChunk = 4 << 20;
}

Result<bool> SplitLineReader::More() {
  if (eof_) return false;
  if (buf_pos_ > 0) {
    buf_.erase(0, buf_pos_);
    buf_pos_ = 0;
  }
  size_t old = buf_.size();
  buf_.resize(old + kChunk);
  ASSIGN_OR_RETURN(size_t n, source_->Read(buf_.data() + old, kChunk));
  buf_.resize(old + n);
  if (n == 0) eof_ = true;
  return n > 0;
}

Result<bool> SplitLineReader::Next(std::string_view* line, uint64_t* offset) {
  if (!started_) {
    started_ = true;
    if (start_ == 0) {
      RETURN_IF_ERROR(source_->Seek(0));
      pos_ = 0;
    } else {
      // Skip through the first '\n' at or after start-1: what precedes it belongs to the
      // line that started in the previous split.
      RETURN_IF_ERROR(source_->Seek(start_ - 1));
      pos_ = start_ - 1;
      while (true) {
        if (buf_pos_ == buf_.size()) {
          ASSIGN_OR_RETURN(bool more, More());
          if (!more) return false;
        }
        const char* nl =
            static_cast<const char*>(memchr(buf_.data() + buf_pos_, '\n', buf_.size() - buf_pos_));
        if (nl) {
          size_t skip = static_cast<size_t>(nl - (buf_.data() + buf_pos_)) + 1;
          buf_pos_ += skip;
          pos_ += skip;
          break;
        }
        pos_ += buf_.size() - buf_pos_;
        buf_pos_ = buf_.size();
      }
    }
  }
  if (pos_ >= end_) return false;
  size_t scanned = 0;  // bytes after buf_pos_ known to hold no '\n'
  while (true) {
    const char* base = buf_.data() + buf_pos_;
    size_t avail = buf_.size() - buf_pos_;
    const char* nl = static_cast<const char*>(memchr(base + scanned, '\n', avail - scanned));
    if (nl) {
      size_t len = static_cast<size_t>(nl - base);
      *line = std::string_view(base, len);
      *offset = pos_;
      buf_pos_ += len + 1;
      pos_ += len + 1;
      return true;
    }
    scanned = avail;
    ASSIGN_OR_RETURN(bool more, More());
    if (!more) {
      if (avail == 0) return false;
      // The file's last line has no '\n'.
      line_.assign(buf_.data() + buf_pos_, avail);
      *line = line_;
      *offset = pos_;
      buf_pos_ += avail;
      pos_ += avail;
      return true;
    }
  }
}

}  // namespace dfs::mr
