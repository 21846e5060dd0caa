// Reads the text lines of one input split.
//
// A split is a byte range [start, start+length) of a file, normally one block. Each line
// belongs to the split holding its first byte, so a line that crosses a split boundary is
// read exactly once: a split that does not start at 0 skips the bytes up to its first line
// start (reading from start-1, so a line starting exactly at `start` is kept), and every
// split reads past its end to finish its last line. Lines are returned without '\n'.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dfs::mr {

// Sequential bytes of a file from a chosen position.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual Status Seek(uint64_t pos) = 0;
  // Up to n bytes; 0 at the end of the file.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
};

class SplitLineReader {
 public:
  SplitLineReader(ByteSource* source, uint64_t start, uint64_t length)
      : source_(source), start_(start), end_(start + length) {}

  // The next line of the split and the file offset of its first byte; false at the end.
  // *line stays valid until the next call.
  Result<bool> Next(std::string_view* line, uint64_t* offset);
  // File bytes consumed so far past the split's start, for progress.
  uint64_t consumed() const { return pos_ > start_ ? pos_ - start_ : 0; }

 private:
  // Makes buf_ hold at least one more byte past buf_pos_; false at the end of the file.
  Result<bool> More();

  ByteSource* source_;
  uint64_t start_, end_;
  bool started_ = false;
  uint64_t pos_ = 0;  // file offset of buf_[buf_pos_]
  std::string buf_;
  size_t buf_pos_ = 0;
  std::string line_;
  bool eof_ = false;
};

}  // namespace dfs::mr
