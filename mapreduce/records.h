// Map output records and the sorted streams built from them.
//
// A record is [varint key length][varint value length][key][value]; a segment is records
// back to back. A map's output file holds one segment per partition, each sorted by key;
// its index file holds the partitions' (offset, length) pairs as little-endian uint64s.
//
// SortedRecords is a stream of (key, value) in key order; RecordReader reads a segment
// from memory or from a byte range of a file, MergeIterator merges many streams. The views
// returned by key() and value() stay valid until the next call to Next().
// None of these classes is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dfs::mr {

void AppendRecord(std::string* out, std::string_view key, std::string_view value);

class SortedRecords {
 public:
  virtual ~SortedRecords() = default;
  // Moves to the next record; false at the end.
  virtual Result<bool> Next() = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
};

class RecordReader : public SortedRecords {
 public:
  // Reads records from data, which must outlive the reader.
  explicit RecordReader(std::string_view data);
  // Reads records from [offset, offset+length) of fd (not owned; must stay open).
  RecordReader(int fd, uint64_t offset, uint64_t length);
  // Reads a whole file; the reader owns the descriptor.
  static Result<std::unique_ptr<RecordReader>> OpenFile(const std::string& path);
  ~RecordReader() override;

  Result<bool> Next() override;
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }

 private:
  Status Fill(size_t need);

  int fd_ = -1;
  bool owns_fd_ = false;
  uint64_t file_pos_ = 0;  // next file byte to read into buf_
  uint64_t file_end_ = 0;
  std::string buf_;
  std::string_view data_;  // unread bytes (in buf_ or caller memory)
  std::string_view key_, value_;
};

// Merges streams ordered by key into one ordered stream; equal keys come out in the order
// of the inputs.
class MergeIterator : public SortedRecords {
 public:
  explicit MergeIterator(std::vector<std::unique_ptr<SortedRecords>> inputs);
  Result<bool> Next() override;
  std::string_view key() const override { return inputs_[heap_.front()]->key(); }
  std::string_view value() const override { return inputs_[heap_.front()]->value(); }

 private:
  bool Less(size_t a, size_t b) const;
  void SiftDown(size_t i);

  std::vector<std::unique_ptr<SortedRecords>> inputs_;
  std::vector<size_t> heap_;  // indexes into inputs_, smallest current key first
  bool started_ = false;
};

// The values of one key group, for a Reducer.
class Values {
 public:
  virtual ~Values() = default;
  // The next value of the current key; false when the group is done.
  virtual bool Next(std::string_view* value) = 0;
};

// Walks a sorted stream key group by key group: calls fn(key, values) once per distinct key.
// Values not consumed by fn are skipped.
Status ForEachGroup(SortedRecords* in,
                    const std::function<Status(std::string_view key, Values& values)>& fn);

// Index file of a map output: partition p's segment is [offsets[p], offsets[p+1]).
Status WriteIndex(const std::string& path, const std::vector<uint64_t>& offsets);
Result<std::vector<uint64_t>> ReadIndex(const std::string& path);

}  // namespace dfs::mr
