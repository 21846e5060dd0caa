#include "client/output_stream.h"

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
    spdlog::warn("closing a block of {} failed ({}); writing the block again",
                 status_.path(), b.status().message());
    RETURN_IF_ERROR(RewriteBlock());
  }
}

Status OutputStream::RewriteBlock() {
  if (writer_) {
    std::string bad = writer_->failed_datanode();
    proto::AbandonBlockRequest ab;
    ab.set_path(status_.path());
    ab.set_client_name(fs_->client_name());
    *ab.mutable_block() = writer_->block();
    writer_.reset();
    proto::AbandonBlockResponse ab_resp;
    RETURN_IF_ERROR(fs_->Call(
        [&](grpc::ClientContext* c) { return fs_->stub()->AbandonBlock(c, ab, &ab_resp); }));
    if (!bad.empty()) excluded_.push_back(bad);
  }
  RETURN_IF_ERROR(StartBlock());
  return writer_->Write(block_data_.data(), block_data_.size());
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
      spdlog::warn("writing {} failed ({}); writing the block again", status_.path(),
                   failed_.message());
      failed_ = RewriteBlock();
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

Status OutputStream::Flush() {
  if (!failed_.ok()) return failed_;
  if (writer_) failed_ = writer_->Flush(false);
  return failed_;
}

Status OutputStream::Sync() {
  if (!failed_.ok()) return failed_;
  if (writer_) failed_ = writer_->Flush(true);
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
  proto::CompleteRequest req;
  req.set_path(status_.path());
  req.set_client_name(fs_->client_name());
  if (previous_) *req.mutable_last() = *previous_;
  // The namenode closes the file once every block has a replica reported; datanodes
  // report right after the pipeline's last ack, so this rarely waits.
  int64_t backoff_ms = 2;
  for (int attempt = 0;; ++attempt) {
    proto::CompleteResponse resp;
    failed_ = fs_->Call(
        [&](grpc::ClientContext* c) { return fs_->stub()->Complete(c, req, &resp); });
    if (!failed_.ok() || resp.completed()) return failed_;
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
