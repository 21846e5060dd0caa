// Batch on its own, with a namenode call that answers from a rule after a pause (so that
// callers pile up behind the batches on the wire).
#include "client/batch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace dfs {
namespace {

using namespace std::chrono_literals;
using Answer = Result<std::string>;
using TestBatch = Batch<std::string, Answer>;

struct FakeNamenode {
  std::atomic<int> calls{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> most_in_flight{0};
  std::atomic<int> most_items{0};
  Status fail;          // every call fails with this when set
  bool short_ = false;  // every call answers one item too few

  static void Raise(std::atomic<int>& most, int now) {
    for (int m = most; now > m && !most.compare_exchange_weak(m, now);) {
    }
  }

  // "/missing..." is not found; anything else answers with its own name.
  Status Send(const std::vector<const std::string*>& items, std::vector<Answer>* answers) {
    ++calls;
    Raise(most_in_flight, ++in_flight);
    Raise(most_items, static_cast<int>(items.size()));
    std::this_thread::sleep_for(2ms);
    --in_flight;
    if (!fail.ok()) return fail;
    for (const std::string* p : items) {
      if (p->rfind("/missing", 0) == 0) {
        answers->push_back(NotFound("no such file or directory: " + *p));
      } else {
        answers->push_back(*p);
      }
    }
    if (short_) answers->pop_back();
    return Status::Ok();
  }
};

TestBatch::Send To(FakeNamenode* nn) {
  return [nn](const auto& items, auto* answers) { return nn->Send(items, answers); };
}

TEST(BatchTest, OneCallerAloneSendsAtOnce) {
  FakeNamenode nn;
  TestBatch batch(1, To(&nn));
  auto r = batch.Run("/a");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "/a");
  EXPECT_EQ(batch.Run("/missing").status().code(), Code::kNotFound);
  EXPECT_EQ(nn.calls, 2);
  EXPECT_EQ(nn.most_items, 1);
}

// 16 threads, one or two batches on the wire at a time.
void ConcurrentCallersShareCalls(int max_in_flight) {
  FakeNamenode nn;
  TestBatch batch(max_in_flight, To(&nn));
  constexpr int kThreads = 16, kEach = 50;
  std::atomic<int> wrong{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        bool missing = (i % 3) == 0;
        std::string path =
            (missing ? "/missing/" : "/f/") + std::to_string(t) + "/" + std::to_string(i);
        auto r = batch.Run(path);
        bool right = missing ? r.status().code() == Code::kNotFound : r.ok() && *r == path;
        if (!right) ++wrong;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(nn.most_in_flight, max_in_flight);
  EXPECT_GT(nn.most_items, 1);
  EXPECT_LT(nn.calls, kThreads * kEach / 2) << "callers did not share calls";
}

TEST(BatchTest, ConcurrentCallersShareCallsAndEachGetsItsOwnAnswer) {
  ConcurrentCallersShareCalls(1);
}

TEST(BatchTest, TwoBatchesOnTheWireAtMost) { ConcurrentCallersShareCalls(2); }

TEST(BatchTest, AFailedCallFailsEveryCallerInItAndTheNextCallsGoOn) {
  FakeNamenode nn;
  nn.fail = Unavailable("no namenode leader reachable");
  TestBatch batch(1, To(&nn));
  std::vector<std::thread> ts;
  std::atomic<int> failed{0};
  for (int t = 0; t < 8; ++t) {
    ts.emplace_back([&] {
      if (batch.Run("/a").status().code() == Code::kUnavailable) ++failed;
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(failed, 8);
  nn.fail = Status::Ok();
  EXPECT_TRUE(batch.Run("/a").ok());
}

TEST(BatchTest, AnAnswerMissingFailsTheWholeBatch) {
  FakeNamenode nn;
  nn.short_ = true;
  TestBatch batch(1, To(&nn));
  EXPECT_EQ(batch.Run("/a").status().code(), Code::kInternal);
}

}  // namespace
}  // namespace dfs
