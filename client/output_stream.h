// OutputStream: writes a file sequentially, block by block. For each block it asks the
// namenode for a new block and its pipeline, streams the bytes through the pipeline, and
// on Close waits for the namenode to accept the file as complete. A datanode that cannot
// be reached when a block's pipeline is set up is excluded and the block re-allocated.
// If a datanode fails while a block is being written, the stream abandons that block and
// writes it again, from its own copy of the block's bytes, to a pipeline without that
// datanode (so a stream holds up to one block of data in memory).
// Close must be called for the data to count; destroying an open stream abandons it.
// One thread at a time.
#pragma once

#include <memory>
#include <optional>
#include <set>

#include "client/block_writer.h"
#include "client/file_system.h"

namespace dfs {

class OutputStream {
 public:
  ~OutputStream();
  Status Write(const char* data, size_t len);
  // Waits until every datanode of the current block has acknowledged everything written
  // (hflush); Sync also has them make it durable on disk (hsync).
  Status Flush();
  Status Sync();
  Status Close();
  uint64_t position() const { return written_; }
  // The file as the namenode described it when the stream was opened.
  const FileStatus& status() const { return status_; }

 private:
  friend class FileSystem;
  OutputStream(FileSystem* fs, FileStatus status)
      : fs_(fs), status_(std::move(status)), written_(status_.length()) {
    fs_->WriterOpened();
  }
  Status StartBlock();
  Status FinishBlock();
  // Flush or Sync, recovering the pipeline if a datanode of it failed.
  Status FlushPipeline(bool sync);
  // After a pipeline datanode failed: the block gets a new generation stamp and is
  // written again, from block_data_, to the survivors and any replacements.
  Status RecoverPipeline();

  FileSystem* fs_;
  FileStatus status_;
  uint64_t written_;
  std::unique_ptr<BlockWriter> writer_;
  std::string block_data_;               // the current block's bytes, for a recovery
  std::vector<std::string> excluded_;    // datanodes that failed this stream
  std::optional<proto::Block> previous_;  // last finished block, not yet told to the namenode
  bool closed_ = false;
  Status failed_;
};

}  // namespace dfs
