// The map side's sort buffer: collects (partition, key, value) records in a bounded
// in-memory buffer; when it is full, sorts it by (partition, key), runs the combiner over
// each partition and spills it to a file. Finish merges the spills (combining again) into
// one output file per map plus its index (see records.h), written under temporary names
// and renamed into place. With `compress`, each partition's segment in the final file is
// one zstd frame (DecompressSegment undoes it); spills stay uncompressed.
// Not thread-safe: one map task's thread uses it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "mapreduce/records.h"

namespace dfs::mr {

// Reads a sorted run of one partition and emits the combined records (same key order).
using CombineFn = std::function<Status(
    SortedRecords* in, const std::function<void(std::string_view, std::string_view)>& emit)>;

struct MapOutputOptions {
  uint32_t partitions = 1;
  uint64_t buffer_bytes = 64 << 20;
  std::string spill_dir;  // scratch directory for spill files
  CombineFn combiner;     // optional
  bool compress = false;  // each partition of the final output is one zstd frame
};

class MapOutputBuffer {
 public:
  explicit MapOutputBuffer(MapOutputOptions options) : o_(std::move(options)) {}
  ~MapOutputBuffer();

  // REQUIRES: partition < partitions.
  Status Add(uint32_t partition, std::string_view key, std::string_view value);
  // Writes the map's output to path and its index to path + ".index".
  Status Finish(const std::string& path);

  int spills() const { return spill_count_; }
  uint64_t output_records() const { return output_records_; }

 private:
  struct Entry {
    uint32_t partition;
    uint32_t key_len;
    uint32_t value_len;
    uint64_t offset;  // of the key in arena_; the value follows it
  };
  struct Spill {
    std::string path;
    std::vector<uint64_t> offsets;  // partitions + 1
  };
  // Sorts the buffer and writes it, partition by partition, to path.
  Status SortAndWrite(const std::string& path, std::vector<uint64_t>* offsets, bool final);
  Status SpillBuffer();
  // Writes one partition's sorted records through the combiner to fd.
  Status WriteRun(int fd, SortedRecords* in, uint64_t* written, bool final);

  MapOutputOptions o_;
  std::string arena_;
  std::vector<Entry> entries_;
  std::vector<Spill> spills_;
  uint64_t output_records_ = 0;
  int spill_count_ = 0;
};

// A compressed segment (one zstd frame) back to records.
Result<std::string> DecompressSegment(std::string_view frame);

// The default partitioner: a hash of the key modulo the number of partitions.
uint32_t HashPartition(std::string_view key, uint32_t partitions);

}  // namespace dfs::mr
