#include "client/output_stream.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/logging.h"

namespace dfs {

OutputStream::~OutputStream() {
  if (!closed_) {
    Status s = Close();
    if (!s.ok()) spdlog::warn("closing {}: {}", status_.path(), s.message());
  }
  fs_->WriterClosed();
}

Status OutputStream::StartBlock() {
  std::vector<std::string>& excluded = excluded_;
  Status last;
  for (int attempt = 0; attempt < 4; ++attempt) {
    proto::AddBlockRequest req;
    req.set_path(status_.path());
    req.set_client_name(fs_->client_name());
    if (previous_) *req.mutable_previous() = *previous_;
    for (const auto& e : excluded) req.add_excluded_datanodes(e);
    proto::AddBlockResponse resp;
    RETURN_IF_ERROR(
        fs_->Call([&](grpc::ClientContext* c) { return fs_->stub()->AddBlock(c, req, &resp); }));
    previous_.reset();
    const auto& lb = resp.block();
    std::vector<proto::DatanodeId> pipeline(lb.locations().begin(), lb.locations().end());
    std::string bad;
    auto w = BlockWriter::Open(lb.block(), pipeline, fs_->client_name(), &bad);
    if (w.ok()) {
      writer_ = std::move(*w);
      return Status::Ok();
    }
    last = w.status();
    spdlog::warn("pipeline for block {} of {} failed ({}); excluding datanode {}",
                 lb.block().id(), status_.path(), last.message(), bad);
    proto::AbandonBlockRequest ab;
    ab.set_path(status_.path());
    ab.set_client_name(fs_->client_name());
    *ab.mutable_block() = lb.block();
    proto::AbandonBlockResponse ab_resp;
    RETURN_IF_ERROR(fs_->Call(
        [&](grpc::ClientContext* c) { return fs_->stub()->AbandonBlock(c, ab, &ab_resp); }));
    if (!bad.empty()) excluded.push_back(bad);
  }
  return Status(last.code(), "could not set up a write pipeline for " + status_.path() + ": " +
                                 last.message());
}

Status OutputStream::FinishBlock() {
  for (int attempt = 0;; ++attempt) {
    auto b = writer_->Close();
    if (b.ok()) {
      writer_.reset();
      previous_ = *b;
      block_data_.clear();
      return Status::Ok();
    }
    if (attempt >= 3) return b.status();
    spdlog::warn("closing a block of {} failed ({}); recovering the pipeline", status_.path(),
                 b.status().message());
    RETURN_IF_ERROR(RecoverPipeline());
  }
}

Status OutputStream::RecoverPipeline() {
  proto::Block block = writer_->block();
  std::string bad = writer_->failed_datanode();
  std::vector<proto::DatanodeId> survivors;
  for (const auto& dn : writer_->pipeline()) {
    if (dn.uuid() != bad) survivors.push_back(dn);
  }
  writer_.reset();  // the datanodes see the old pipeline end
  if (!bad.empty()) excluded_.push_back(bad);
  const auto policy = fs_->replace_policy();
  Status last = Unavailable("no datanode left for block " + std::to_string(block.id()));
  for (int attempt = 0; attempt < 5; ++attempt) {
    size_t replication = std::max<size_t>(status_.replication(), 1);
    uint32_t wanted = policy == FileSystem::ReplacePolicy::kNever || survivors.size() >= replication
                          ? 0
                          : static_cast<uint32_t>(replication - survivors.size());
    proto::UpdatePipelineRequest req;
    req.set_path(status_.path());
    req.set_client_name(fs_->client_name());
    *req.mutable_block() = block;
    for (const auto& dn : survivors) req.add_survivors(dn.uuid());
    for (const auto& e : excluded_) req.add_excluded_datanodes(e);
    req.set_replacements(wanted);
    proto::UpdatePipelineResponse resp;
    RETURN_IF_ERROR(fs_->Call(
        [&](grpc::ClientContext* c) { return fs_->stub()->UpdatePipeline(c, req, &resp); }));
    block = resp.block().block();
    if (policy == FileSystem::ReplacePolicy::kAlways &&
        resp.block().locations_size() < static_cast<int>(wanted)) {
      return Unavailable("no datanode can replace the failed one in the pipeline of " +
                         status_.path() + " (replace_datanode_on_failure = always)");
    }
    std::vector<proto::DatanodeId> pipeline = survivors;
    pipeline.insert(pipeline.end(), resp.block().locations().begin(),
                    resp.block().locations().end());
    if (pipeline.empty()) return last;
    spdlog::warn("writing block {} of {} again to {} datanode(s), generation stamp {}",
                 block.id(), status_.path(), pipeline.size(), block.generation_stamp());
    std::string failed;
    auto w = BlockWriter::Open(block, pipeline, fs_->client_name(), &failed);
    Status s = w.status();
    if (w.ok()) {
      writer_ = std::move(*w);
      s = writer_->Write(block_data_.data(), block_data_.size());
      if (s.ok()) return Status::Ok();
      failed = writer_->failed_datanode();
      writer_.reset();
    }
    last = s;
    spdlog::warn("recovering the pipeline of {}: {}", status_.path(), s.message());
    // Everyone gets the whole block again, so all but the failed one may stay.
    survivors.clear();
    for (const auto& dn : pipeline) {
      if (dn.uuid() != failed) survivors.push_back(dn);
    }
    if (!failed.empty()) excluded_.push_back(failed);
  }
  return Status(last.code(), "could not recover the write pipeline of " + status_.path() + ": " +
                                 last.message());
}

Status OutputStream::Write(const char* data, size_t len) {
  if (closed_) return FailedPrecondition("write to a closed stream: " + status_.path());
  if (!failed_.ok()) return failed_;
  while (len > 0) {
    if (!writer_) {
      failed_ = StartBlock();
      if (!failed_.ok()) return failed_;
    }
    size_t n =
        static_cast<size_t>(std::min<uint64_t>(len, status_.block_size() - block_data_.size()));
    block_data_.append(data, n);
    failed_ = writer_->Write(data, n);
    for (int attempt = 0; !failed_.ok() && attempt < 3; ++attempt) {
      spdlog::warn("writing {} failed ({}); recovering the pipeline", status_.path(),
                   failed_.message());
      failed_ = RecoverPipeline();
    }
    if (!failed_.ok()) {
      failed_ = Status(failed_.code(), "writing " + status_.path() + ": " + failed_.message());
      return failed_;
    }
    written_ += n;
    data += n;
    len -= n;
    if (block_data_.size() == status_.block_size()) {
      failed_ = FinishBlock();
      if (!failed_.ok()) return failed_;
    }
  }
  return Status::Ok();
}

Status OutputStream::Flush() { return FlushPipeline(false); }

Status OutputStream::Sync() { return FlushPipeline(true); }

Status OutputStream::FlushPipeline(bool sync) {
  if (!failed_.ok() || !writer_) return failed_;
  failed_ = writer_->Flush(sync);
  for (int attempt = 0; !failed_.ok() && attempt < 3; ++attempt) {
    spdlog::warn("flushing {} failed ({}); recovering the pipeline", status_.path(),
                 failed_.message());
    failed_ = RecoverPipeline();
    if (failed_.ok()) failed_ = writer_->Flush(sync);
  }
  return failed_;
}

Status OutputStream::Close() {
  if (closed_) return failed_;
  closed_ = true;
  if (!failed_.ok()) return failed_;
  if (writer_) {
    failed_ = FinishBlock();
    if (!failed_.ok()) return failed_;
  }
  proto::Mutation m;
  proto::CompleteRequest& req = *m.mutable_complete();
  req.set_path(status_.path());
  req.set_client_name(fs_->client_name());
  if (previous_) *req.mutable_last() = *previous_;
  // The namenode closes the file once every block has a replica reported; datanodes
  // report right after the pipeline's last ack, so this rarely waits.
  int64_t backoff_ms = 2;
  for (int attempt = 0;; ++attempt) {
    auto r = fs_->Mutate(m);
    failed_ = r.status();
    if (!r.ok() || r->complete().completed()) return failed_;
    if (attempt > 60) {
      failed_ = DeadlineExceeded("namenode did not accept " + status_.path() +
                                 " as complete: its blocks have no reported replica");
      return failed_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms = std::min<int64_t>(backoff_ms * 2, 500);
  }
}

}  // namespace dfs
