#include "namenode/local_log.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "common/logging.h"

namespace dfs {

namespace fs = std::filesystem;

LocalLog::LocalLog(std::string dir, uint64_t checkpoint_every)
    : dir_(std::move(dir)), checkpoint_every_(checkpoint_every) {}

LocalLog::~LocalLog() { Stop(); }

Status LocalLog::Start(StateMachine* sm) {
  sm_ = sm;
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return IoError("create " + dir_ + ": " + ec.message());
  std::string image = dir_ + "/image";
  uint64_t image_index = 0;
  if (fs::exists(image)) {
    ASSIGN_OR_RETURN(image_index, sm->RestoreSnapshot(image));
  }
  last_index_ = image_index;
  std::string edits = dir_ + "/edits";
  if (fs::exists(edits)) {
    ASSIGN_OR_RETURN(RecordReader * raw, RecordReader::Open(edits));
    std::unique_ptr<RecordReader> r(raw);
    std::string rec;
    Status s;
    uint64_t replayed = 0;
    while ((s = r->Next(&rec)).ok()) {
      if (rec.size() < 8) return DataLoss(edits + ": record too short");
      uint64_t index;
      memcpy(&index, rec.data(), 8);
      if (index <= last_index_) continue;
      if (index != last_index_ + 1) {
        return DataLoss(edits + ": entry " + std::to_string(index) + " follows " +
                        std::to_string(last_index_));
      }
      sm->Apply(index, rec.substr(8));
      last_index_ = index;
      ++replayed;
    }
    if (s.code() == Code::kDataLoss) return DataLoss(edits + ": " + s.message());
    if (r->torn()) {
      spdlog::warn("edit log {} ends in a torn record; truncating at byte {}", edits,
                   r->good_bytes());
      if (::truncate(edits.c_str(), static_cast<off_t>(r->good_bytes())) != 0) {
        return ErrnoStatus("truncate " + edits, errno);
      }
    }
    since_checkpoint_ = replayed;
    spdlog::info("recovered namespace: image at entry {}, {} entries replayed", image_index,
                 replayed);
  }
  ASSIGN_OR_RETURN(RecordWriter * w, RecordWriter::Open(edits));
  edits_.reset(w);
  writer_ = std::thread([this] { WriterLoop(); });
  return Status::Ok();
}

std::future<Result<uint64_t>> LocalLog::Propose(std::string entry) {
  Pending p{std::move(entry), {}};
  auto f = p.done.get_future();
  std::lock_guard<std::mutex> l(mu_);
  if (stopping_) {
    p.done.set_value(Unavailable("namenode is shutting down"));
  } else if (!failed_.ok()) {
    p.done.set_value(failed_);
  } else {
    queue_.push_back(std::move(p));
    cv_.notify_one();
  }
  return f;
}

void LocalLog::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (writer_.joinable()) writer_.join();
}

void LocalLog::WriterLoop() {
  std::deque<Pending> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      batch.swap(queue_);
    }
    uint64_t first = last_index_ + 1;
    for (uint64_t i = 0; i < batch.size(); ++i) {
      std::string rec(8, '\0');
      uint64_t index = first + i;
      memcpy(rec.data(), &index, 8);
      rec += batch[i].entry;
      edits_->Append(rec);
    }
    Status s = edits_->Sync();
    if (!s.ok()) {
      // The disk failed: what was not synced may be lost, so nothing more is accepted.
      spdlog::error("edit log write failed, refusing further changes: {}", s.ToString());
      std::lock_guard<std::mutex> l(mu_);
      failed_ = Unavailable("namenode edit log failed: " + s.message());
      for (auto& p : batch) p.done.set_value(failed_);
      for (auto& p : queue_) p.done.set_value(failed_);
      queue_.clear();
      batch.clear();
      continue;
    }
    for (auto& p : batch) {
      ++last_index_;
      sm_->Apply(last_index_, p.entry);
      p.done.set_value(last_index_);
    }
    since_checkpoint_ += batch.size();
    batch.clear();
    if (since_checkpoint_ >= checkpoint_every_) {
      Status cs = Checkpoint();
      if (!cs.ok()) spdlog::error("checkpoint failed (will retry): {}", cs.ToString());
    }
  }
}

Status LocalLog::Checkpoint() {
  std::string image = dir_ + "/image";
  ASSIGN_OR_RETURN(uint64_t index, sm_->SaveSnapshot(image));
  // The image holds everything up to index, so the edits before it can go. A crash between
  // the two steps is harmless: replay skips entries the image already holds.
  std::string fresh = dir_ + "/edits.new";
  fs::remove(fresh);
  ASSIGN_OR_RETURN(RecordWriter * w, RecordWriter::Open(fresh));
  std::unique_ptr<RecordWriter> writer(w);
  RETURN_IF_ERROR(writer->Sync());
  std::error_code ec;
  fs::rename(fresh, dir_ + "/edits", ec);
  if (ec) return IoError("rename " + fresh + ": " + ec.message());
  edits_ = std::move(writer);
  since_checkpoint_ = 0;
  spdlog::info("checkpoint written at entry {}", index);
  return Status::Ok();
}

}  // namespace dfs
