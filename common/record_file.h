// Files of records, each framed as [u32 length][u32 CRC32C of the length][u32 CRC32C of
// the payload][payload] (little-endian). Used by the namenode's edit log and checkpoint
// images. The length has its own checksum so that a damaged length in the middle of a
// file is told apart from a record cut short at the end.
//
// RecordWriter appends and syncs; RecordReader tells a torn tail (the last record cut
// short by a crash: safe to truncate) from corruption in the middle (DataLoss: stop).
// Neither is thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace dfs {

class RecordWriter {
 public:
  ~RecordWriter();
  // Opens path for appending (creating it), positioned at its end.
  static Result<RecordWriter*> Open(const std::string& path);
  // Buffers one record; Flush writes the buffer, Sync also fdatasyncs.
  void Append(const std::string& payload);
  Status Flush();
  Status Sync();
  uint64_t size() const { return size_ + buf_.size(); }

 private:
  RecordWriter(int fd, uint64_t size) : fd_(fd), size_(size) {}
  int fd_;
  uint64_t size_;
  std::string buf_;
};

class RecordReader {
 public:
  ~RecordReader();
  static Result<RecordReader*> Open(const std::string& path);
  // Reads the next record. Returns OutOfRange at a clean end; at a torn tail it also
  // returns OutOfRange and sets torn() with the offset where the good records end.
  // A record whose CRC fails with more data after it is DataLoss.
  Status Next(std::string* payload);
  bool torn() const { return torn_; }
  uint64_t good_bytes() const { return offset_; }

 private:
  RecordReader(std::string data) : data_(std::move(data)) {}
  std::string data_;
  uint64_t offset_ = 0;
  bool torn_ = false;
};

// Writes data to path atomically (temporary file, fsync, rename, fsync of the directory).
Status WriteFileAtomic(const std::string& path, const std::string& data);

}  // namespace dfs
