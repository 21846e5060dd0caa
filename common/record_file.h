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
  // Opens path for appending (creating it), positioned at its end, which must be the end
  // of its last record. With `preallocate` > 0 the file is extended with zeros that many
  // bytes ahead of the records, so a sync after appending overwrites blocks the file
  // already has instead of growing it: on ext4 that halves the cost of an fdatasync. A
  // reader takes the zeros for the end (RecordReader::zero_tail).
  static Result<RecordWriter*> Open(const std::string& path, uint64_t preallocate = 0);
  // Buffers one record; Flush writes the buffer, Sync also fdatasyncs.
  void Append(const std::string& payload);
  Status Flush();
  Status Sync();
  // Syncs, then cuts off the zeros ahead of the records: for a file that is done.
  Status Finish();
  uint64_t size() const { return size_ + buf_.size(); }  // written and buffered
  uint64_t buffered() const { return buf_.size(); }

 private:
  RecordWriter(int fd, uint64_t size, uint64_t preallocate)
      : fd_(fd), size_(size), allocated_(size), preallocate_(preallocate) {}
  int fd_;
  uint64_t size_;       // the end of the records written
  uint64_t allocated_;  // the end of the file (zeros from size_ on)
  uint64_t preallocate_;
  std::string buf_;
};

class RecordReader {
 public:
  ~RecordReader();
  static Result<RecordReader*> Open(const std::string& path);
  // Reads the next record. Returns OutOfRange at a clean end; at a torn tail it also
  // returns OutOfRange and sets torn() with the offset where the good records end.
  // A record whose CRC fails with more than zeros after it is DataLoss.
  Status Next(std::string* payload);
  bool torn() const { return torn_; }
  // The records end where only zeros follow (a preallocated file, or one a crash
  // extended): torn() too, but nothing was lost.
  bool zero_tail() const { return zero_tail_; }
  uint64_t good_bytes() const { return offset_; }

 private:
  RecordReader(std::string data) : data_(std::move(data)) {}
  std::string data_;
  uint64_t offset_ = 0;
  bool torn_ = false;
  bool zero_tail_ = false;
};

// Writes data to path atomically (temporary file, fsync, rename, fsync of the directory).
Status WriteFileAtomic(const std::string& path, const std::string& data);

}  // namespace dfs
