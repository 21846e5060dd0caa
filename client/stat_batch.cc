#include "client/stat_batch.h"

namespace dfs {

Result<proto::FileStatus> StatBatch::Stat(const std::string& path) {
  // Shared: a leader may still notify it after it returned.
  auto w = std::make_shared<Waiter>();
  w->path = &path;
  std::unique_lock<std::mutex> l(mu_);
  queue_.push_back(w);
  while (!w->done) {
    if (w->queued && in_flight_ < kMaxInFlight) {
      Lead(l);
    } else {
      w->cv.wait(l);
    }
  }
  return std::move(w->result);
}

void StatBatch::Lead(std::unique_lock<std::mutex>& l) {
  std::vector<std::shared_ptr<Waiter>> batch;
  proto::GetFileInfosRequest req;
  while (!queue_.empty() && batch.size() < kMaxBatch) {
    auto x = queue_.front();
    queue_.pop_front();
    x->queued = false;
    batch.push_back(x);
    req.add_paths(*x->path);
  }
  ++in_flight_;
  l.unlock();
  proto::GetFileInfosResponse resp;
  Status s = send_(req, &resp);
  if (s.ok() && resp.results_size() != static_cast<int>(batch.size())) {
    s = Internal("namenode answered " + std::to_string(resp.results_size()) + " of " +
                 std::to_string(batch.size()) + " stats");
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    Waiter* x = batch[i].get();
    if (!s.ok()) {
      x->result = s;
    } else if (auto& r = *resp.mutable_results(static_cast<int>(i)); r.code() != 0) {
      x->result = Status(static_cast<Code>(r.code()), r.message());
    } else {
      x->result = std::move(*r.mutable_status());
    }
  }
  l.lock();
  --in_flight_;
  for (auto& x : batch) x->done = true;
  // A batch slot is free: the next caller in line sends the queue.
  if (!queue_.empty()) batch.push_back(queue_.front());
  // Woken outside the lock, so that they do not wake only to wait for it.
  l.unlock();
  for (auto& x : batch) x->cv.notify_one();
  l.lock();
}

}  // namespace dfs
