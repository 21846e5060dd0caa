#include "client/input_stream.h"

#include "common/logging.h"

namespace dfs {

Status InputStream::FetchLocations() {
  proto::GetBlockLocationsRequest req;
  req.set_path(path_);
  proto::GetBlockLocationsResponse resp;
  RETURN_IF_ERROR(
      fs_->Call([&](grpc::ClientContext* c) { return fs_->stub()->GetBlockLocations(c, req, &resp); }));
  locations_ = std::move(resp);
  return Status::Ok();
}

const proto::LocatedBlock* InputStream::BlockAt(uint64_t pos) const {
  for (const auto& lb : locations_.blocks()) {
    if (pos >= lb.offset() && pos < lb.offset() + lb.block().num_bytes()) return &lb;
  }
  return nullptr;
}

void InputStream::ReportBad(const proto::LocatedBlock& lb, const std::string& uuid,
                            const std::string& why) {
  proto::ReportBadBlocksRequest req;
  auto* r = req.add_replicas();
  *r->mutable_block() = lb.block();
  r->set_datanode_uuid(uuid);
  r->set_reason(why);
  proto::ReportBadBlocksResponse resp;
  Status s = fs_->Call(
      [&](grpc::ClientContext* c) { return fs_->stub()->ReportBadBlocks(c, req, &resp); });
  if (!s.ok()) spdlog::warn("could not report a bad replica: {}", s.message());
}

Result<std::unique_ptr<BlockReader>> InputStream::OpenReader(uint64_t pos, uint64_t len,
                                                             std::string* datanode) {
  Status last = NotFound("no block of " + path_ + " holds offset " + std::to_string(pos));
  for (int attempt = 0; attempt < 2; ++attempt) {
    const proto::LocatedBlock* lb = BlockAt(pos);
    if (!lb) return last;
    int tried = 0;
    for (const auto& dn : lb->locations()) {
      if (dead_.count(dn.uuid())) continue;
      ++tried;
      auto r = BlockReader::Open(dn, lb->block(), pos - lb->offset(), len);
      if (r.ok()) {
        *datanode = dn.uuid();
        return r;
      }
      last = r.status();
      dead_.insert(dn.uuid());
    }
    if (tried == 0 && lb->locations_size() == 0) {
      last = DataLoss("block " + std::to_string(lb->block().id()) + " of " + path_ +
                      " has no live replica");
    }
    // Every known replica failed: ask the namenode again, it may know others by now.
    dead_.clear();
    RETURN_IF_ERROR(FetchLocations());
  }
  return Status(last.code(), "could not read " + path_ + " at offset " + std::to_string(pos) +
                                 ": " + last.message());
}

Result<size_t> InputStream::Read(char* buf, size_t n) {
  for (int failures = 0;; ++failures) {
    if (pos_ >= length() || n == 0) return size_t{0};
    if (!reader_ || pos_ >= reader_end_) {
      const proto::LocatedBlock* lb = BlockAt(pos_);
      if (!lb) return Internal("no block of " + path_ + " holds offset " + std::to_string(pos_));
      uint64_t block_end = lb->offset() + lb->block().num_bytes();
      ASSIGN_OR_RETURN(reader_, OpenReader(pos_, block_end - pos_, &reader_datanode_));
      reader_end_ = block_end;
    }
    auto got = reader_->Read(buf, n);
    if (got.ok() && *got > 0) {
      pos_ += *got;
      return got;
    }
    Status s = got.ok() ? DataLoss("datanode ended the block early") : got.status();
    const proto::LocatedBlock* lb = BlockAt(pos_);
    if (s.code() == Code::kDataLoss && lb) ReportBad(*lb, reader_datanode_, s.message());
    spdlog::warn("reading {} from datanode {}: {}; trying another replica", path_,
                 reader_datanode_, s.message());
    dead_.insert(reader_datanode_);
    reader_.reset();
    if (failures > 8) return s;
  }
}

Result<size_t> InputStream::PRead(uint64_t pos, char* buf, size_t n) {
  if (pos >= length() || n == 0) return size_t{0};
  const proto::LocatedBlock* lb = BlockAt(pos);
  if (!lb) return Internal("no block of " + path_ + " holds offset " + std::to_string(pos));
  n = static_cast<size_t>(std::min<uint64_t>(n, lb->offset() + lb->block().num_bytes() - pos));
  for (int failures = 0;; ++failures) {
    std::string dn;
    ASSIGN_OR_RETURN(auto reader, OpenReader(pos, n, &dn));
    size_t done = 0;
    Status s;
    while (done < n) {
      auto got = reader->Read(buf + done, n - done);
      if (!got.ok() || *got == 0) {
        s = got.ok() ? DataLoss("datanode ended the block early") : got.status();
        break;
      }
      done += *got;
    }
    if (s.ok()) return done;
    if (s.code() == Code::kDataLoss) ReportBad(*BlockAt(pos), dn, s.message());
    dead_.insert(dn);
    if (failures > 8) return s;
  }
}

Status InputStream::Seek(uint64_t pos) {
  if (pos > length()) {
    return OutOfRange("cannot seek to " + std::to_string(pos) + " past the end of " + path_ +
                      " (" + std::to_string(length()) + " bytes)");
  }
  if (reader_ && (pos < pos_ || pos >= reader_end_ || pos - pos_ > (1 << 20))) reader_.reset();
  if (reader_ && pos > pos_) {
    // Skip forward within the current block by reading.
    std::vector<char> skip(64 << 10);
    while (pos_ < pos) {
      auto got = Read(skip.data(), std::min<uint64_t>(skip.size(), pos - pos_));
      if (!got.ok() || *got == 0) {
        reader_.reset();
        break;
      }
    }
  }
  pos_ = pos;
  return Status::Ok();
}

}  // namespace dfs
