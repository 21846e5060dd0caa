// InputStream: reads a file. Sequential reads stream each block from its nearest replica;
// on a datanode failure or a checksum mismatch the stream moves to the next replica (and
// reports a corrupt one to the namenode). Positional reads leave the position alone.
// One thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "client/block_reader.h"
#include "client/file_system.h"

namespace dfs {

class InputStream {
 public:
  // Reads up to n bytes at the current position; 0 at the end of the file.
  Result<size_t> Read(char* buf, size_t n);
  // Reads up to n bytes at pos without moving the position; 0 at or past the end.
  Result<size_t> PRead(uint64_t pos, char* buf, size_t n);
  Status Seek(uint64_t pos);
  uint64_t position() const { return pos_; }
  uint64_t length() const { return locations_.file_length(); }

 private:
  friend class FileSystem;
  InputStream(FileSystem* fs, std::string path) : fs_(fs), path_(std::move(path)) {}
  Status FetchLocations();
  const proto::LocatedBlock* BlockAt(uint64_t pos) const;
  // Opens a reader for [pos, pos+len) of the block holding pos, trying each replica.
  Result<std::unique_ptr<BlockReader>> OpenReader(uint64_t pos, uint64_t len,
                                                  std::string* datanode);
  void ReportBad(const proto::LocatedBlock& lb, const std::string& uuid, const std::string& why);

  FileSystem* fs_;
  std::string path_;
  proto::GetBlockLocationsResponse locations_;
  uint64_t pos_ = 0;
  std::unique_ptr<BlockReader> reader_;  // serves pos_ up to reader_end_
  std::string reader_datanode_;
  uint64_t reader_end_ = 0;
  std::set<std::string> dead_;  // datanodes that failed this stream
};

}  // namespace dfs
