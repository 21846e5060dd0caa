// Batch: the calls of one kind that a FileSystem's threads make at the same moment share
// namenode calls, so that 16 threads calling at once cost the namenode and this process a
// few calls instead of 16. libdfs batches its stats (GetFileInfos) and its mutations
// (Mutations) this way.
//
// A call goes out at once when fewer than max_in_flight batches are on the wire (one
// thread alone never waits for anyone); otherwise it queues, and the first queued caller
// takes the whole queue (up to kMaxBatch) as the next batch as soon as a batch on the wire
// returns. With 16 threads on 2 cores, stats one batch at a time (~8 paths each) gave
// 33,000-36,000/s, two at a time 24,000-28,000, and one call per stat 16,000-20,000
// (dfs-bench nn). Every answer is still linearizable: the namenode takes each item after
// the batch reached it, so after the call for it began.
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"

namespace dfs {

// Answer is a Result<...>: an item's answer, or why there is none.
template <class Item, class Answer>
class Batch {
 public:
  static constexpr size_t kMaxBatch = 1000;  // the namenode's limit per call
  // Makes one namenode call (with the caller's retries and failover) for items, and gives
  // each its answer, in order; or fails.
  using Send = std::function<Status(const std::vector<const Item*>&, std::vector<Answer>*)>;

  Batch(int max_in_flight, Send send) : max_in_flight_(max_in_flight), send_(std::move(send)) {}

  Answer Run(const Item& item) {
    // Shared: a leader may still notify it after it returned.
    auto w = std::make_shared<Waiter>();
    w->item = &item;
    std::unique_lock<std::mutex> l(mu_);
    queue_.push_back(w);
    while (!w->done) {
      if (w->queued && in_flight_ < max_in_flight_) {
        Lead(l);
      } else {
        w->cv.wait(l);
      }
    }
    return std::move(w->answer);
  }

 private:
  struct Waiter {
    const Item* item;
    bool queued = true;
    bool done = false;
    Answer answer{Internal("not answered")};
    std::condition_variable cv;
  };

  // Sends the queue's head as one batch and answers its waiters. REQUIRES: l holds mu_.
  void Lead(std::unique_lock<std::mutex>& l) {
    std::vector<std::shared_ptr<Waiter>> batch;
    std::vector<const Item*> items;
    while (!queue_.empty() && batch.size() < kMaxBatch) {
      auto x = queue_.front();
      queue_.pop_front();
      x->queued = false;
      batch.push_back(x);
      items.push_back(x->item);
    }
    ++in_flight_;
    l.unlock();
    std::vector<Answer> answers;
    Status s = send_(items, &answers);
    if (s.ok() && answers.size() != batch.size()) {
      s = Internal("namenode answered " + std::to_string(answers.size()) + " of " +
                   std::to_string(batch.size()) + " calls of a batch");
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i]->answer = s.ok() ? std::move(answers[i]) : Answer(s);
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

  const int max_in_flight_;
  const Send send_;
  std::mutex mu_;
  std::deque<std::shared_ptr<Waiter>> queue_;  // guarded by mu_
  int in_flight_ = 0;                          // guarded by mu_
};

}  // namespace dfs
