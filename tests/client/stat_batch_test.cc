// StatBatch on its own, with a namenode call that answers from a rule after a pause (so
// that callers pile up behind the batches on the wire).
#include "client/stat_batch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace dfs {
namespace {

using namespace std::chrono_literals;

struct FakeNamenode {
  std::atomic<int> calls{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> most_in_flight{0};
  std::atomic<int> most_paths{0};
  Status fail;  // every call fails with this when set

  Status Send(const proto::GetFileInfosRequest& req, proto::GetFileInfosResponse* resp) {
    ++calls;
    int now = ++in_flight;
    for (int m = most_in_flight; now > m && !most_in_flight.compare_exchange_weak(m, now);) {
    }
    for (int m = most_paths;
         req.paths_size() > m && !most_paths.compare_exchange_weak(m, req.paths_size());) {
    }
    std::this_thread::sleep_for(2ms);
    --in_flight;
    if (!fail.ok()) return fail;
    for (const auto& p : req.paths()) {
      auto* r = resp->add_results();
      if (p.rfind("/missing", 0) == 0) {
        r->set_code(static_cast<int>(Code::kNotFound));
        r->set_message("no such file or directory: " + p);
      } else {
        r->mutable_status()->set_path(p);
      }
    }
    return Status::Ok();
  }
};

StatBatch::Send To(FakeNamenode* nn) {
  return [nn](const auto& req, auto* resp) { return nn->Send(req, resp); };
}

TEST(StatBatchTest, OneCallerAloneSendsAtOnce) {
  FakeNamenode nn;
  StatBatch batch(To(&nn));
  auto r = batch.Stat("/a");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->path(), "/a");
  EXPECT_EQ(batch.Stat("/missing").status().code(), Code::kNotFound);
  EXPECT_EQ(nn.calls, 2);
  EXPECT_EQ(nn.most_paths, 1);
}

TEST(StatBatchTest, ConcurrentCallersShareCallsAndEachGetsItsOwnAnswer) {
  FakeNamenode nn;
  StatBatch batch(To(&nn));
  constexpr int kThreads = 16, kEach = 50;
  std::atomic<int> wrong{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        bool missing = (i % 3) == 0;
        std::string path =
            (missing ? "/missing/" : "/f/") + std::to_string(t) + "/" + std::to_string(i);
        auto r = batch.Stat(path);
        bool right = missing ? r.status().code() == Code::kNotFound : r.ok() && r->path() == path;
        if (!right) ++wrong;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_LE(nn.most_in_flight, StatBatch::kMaxInFlight);
  EXPECT_GT(nn.most_paths, 1);
  EXPECT_LT(nn.calls, kThreads * kEach / 2) << "callers did not share calls";
}

TEST(StatBatchTest, AFailedCallFailsEveryCallerInItAndTheNextCallsGoOn) {
  FakeNamenode nn;
  nn.fail = Unavailable("no namenode leader reachable");
  StatBatch batch(To(&nn));
  std::vector<std::thread> ts;
  std::atomic<int> failed{0};
  for (int t = 0; t < 8; ++t) {
    ts.emplace_back([&] {
      if (batch.Stat("/a").status().code() == Code::kUnavailable) ++failed;
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(failed, 8);
  nn.fail = Status::Ok();
  EXPECT_TRUE(batch.Stat("/a").ok());
}

}  // namespace
}  // namespace dfs
