// raft-bench: the Raft library alone. Three replicas in this process, each with its own
// disk log (fdatasync per batch) under --dir and its own gRPC transport on loopback.
//
//   raft-bench commits [--seconds 5] [--entry-bytes 64]   commits/s and latency with 1, 16,
//                                                          64 and 256 proposals in flight
//   raft-bench election [--runs 10]                        leader stopped -> new leader
//
// Ticks are 100 ms and the election timeout 10 ticks (1 s), as in a namenode.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/logging.h"
#include "common/net.h"
#include "namenode/raft/node.h"

namespace dfs::raft {
namespace {

using Clock = std::chrono::steady_clock;

// Counts what it applies; snapshots hold just the count.
class Counter : public StateMachine {
 public:
  void Apply(uint64_t index, const std::string&) override { last_ = index; }
  Result<uint64_t> SaveSnapshot(const std::string& path) override {
    FILE* f = fopen(path.c_str(), "w");
    if (!f) return Internal("cannot write " + path);
    fprintf(f, "%llu\n", static_cast<unsigned long long>(last_.load()));
    fclose(f);
    return last_.load();
  }
  Result<uint64_t> RestoreSnapshot(const std::string& path) override {
    FILE* f = fopen(path.c_str(), "r");
    if (!f) return NotFound(path);
    unsigned long long v = 0;
    if (fscanf(f, "%llu", &v) != 1) v = 0;
    fclose(f);
    last_ = v;
    return v;
  }

 private:
  std::atomic<uint64_t> last_{0};
};

struct Group {
  std::map<NodeId, std::string> addresses;
  std::map<NodeId, std::unique_ptr<Counter>> machines;
  std::map<NodeId, std::unique_ptr<Node>> nodes;
  std::string dir;

  Status Start(const std::string& base) {
    dir = base;
    for (NodeId id = 1; id <= 3; ++id) {
      auto s = Listen("127.0.0.1", 0);
      if (!s.ok()) return s.status();
      addresses[id] = "127.0.0.1:" + std::to_string(LocalPort(*s));
    }
    for (NodeId id = 1; id <= 3; ++id) RETURN_IF_ERROR(Node::Format(Dir(id), addresses));
    for (NodeId id = 1; id <= 3; ++id) RETURN_IF_ERROR(StartNode(id));
    return Status::Ok();
  }
  std::string Dir(NodeId id) const { return dir + "/r" + std::to_string(id); }
  Status StartNode(NodeId id) {
    NodeOptions o;
    o.id = id;
    o.dir = Dir(id);
    o.tick_ms = 100;
    o.election_ticks = 10;
    o.snapshot_every = 1'000'000;
    machines[id] = std::make_unique<Counter>();
    nodes[id] = std::make_unique<Node>(o);
    return nodes[id]->Start(machines[id].get());
  }
  NodeId Leader() {
    for (auto& [id, n] : nodes) {
      if (n && n->IsLeader()) return id;
    }
    return 0;
  }
  NodeId WaitLeader() {
    for (int i = 0; i < 1000; ++i) {
      if (NodeId l = Leader()) return l;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return 0;
  }
};

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

int Commits(Group& g, double seconds, size_t entry_bytes) {
  printf("%-10s %12s %10s %10s\n", "in flight", "commits/s", "p50 ms", "p99 ms");
  for (int in_flight : {1, 16, 64, 256}) {
    NodeId leader = g.WaitLeader();
    if (leader == 0) {
      fprintf(stderr, "raft-bench: no leader\n");
      return 1;
    }
    Node* node = g.nodes[leader].get();
    std::mutex mu;
    std::condition_variable cv;
    int outstanding = 0;
    uint64_t done = 0, failed = 0;
    std::vector<double> latencies;
    std::string entry(entry_bytes, 'x');
    auto start = Clock::now();
    auto end = start + std::chrono::duration<double>(seconds);
    std::unique_lock<std::mutex> l(mu);
    while (Clock::now() < end) {
      cv.wait(l, [&] { return outstanding < in_flight; });
      ++outstanding;
      auto sent = Clock::now();
      l.unlock();
      node->ProposeAsync(entry, [&, sent](Result<uint64_t> r) {
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
        std::lock_guard<std::mutex> g2(mu);
        --outstanding;
        if (r.ok()) {
          ++done;
          latencies.push_back(ms);
        } else {
          ++failed;
        }
        cv.notify_all();
      });
      l.lock();
    }
    cv.wait(l, [&] { return outstanding == 0; });
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    printf("%-10d %12.0f %10.2f %10.2f%s\n", in_flight, static_cast<double>(done) / secs,
           Percentile(latencies, 0.5), Percentile(latencies, 0.99),
           failed ? "  (some proposals failed)" : "");
  }
  return 0;
}

int Election(Group& g, int runs) {
  std::vector<double> times;
  for (int run = 0; run < runs; ++run) {
    NodeId leader = g.WaitLeader();
    if (leader == 0) {
      fprintf(stderr, "raft-bench: no leader\n");
      return 1;
    }
    if (!g.nodes[leader]->Propose("warm").get().ok()) {
      fprintf(stderr, "raft-bench: the leader does not commit\n");
      return 1;
    }
    auto start = Clock::now();
    g.nodes[leader]->Stop();  // its peers hear nothing more from it, as after a crash
    g.nodes[leader].reset();
    NodeId next = g.WaitLeader();
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    if (next == 0) {
      fprintf(stderr, "raft-bench: no new leader\n");
      return 1;
    }
    times.push_back(secs);
    printf("run %d: leader %llu stopped; node %llu leads after %.3f s\n", run,
           static_cast<unsigned long long>(leader), static_cast<unsigned long long>(next), secs);
    Status s = g.StartNode(leader);
    if (!s.ok()) {
      fprintf(stderr, "raft-bench: restarting node %llu: %s\n",
              static_cast<unsigned long long>(leader), s.ToString().c_str());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  }
  std::sort(times.begin(), times.end());
  printf("new leader: %d runs, median %.3f s, min %.3f s, max %.3f s (election timeout 1 s)\n",
         runs, times[times.size() / 2], times.front(), times.back());
  return 0;
}

}  // namespace
}  // namespace dfs::raft

int main(int argc, char** argv) {
  using namespace dfs::raft;
  CLI::App app{"raft-bench: commits/s, latency and election time of 3 Raft replicas"};
  app.require_subcommand(1);
  std::string dir = "/tmp/raft-bench";
  double seconds = 5;
  size_t entry_bytes = 64;
  int runs = 10;
  app.add_option("--dir", dir, "where the replicas keep their logs (wiped first)")
      ->capture_default_str();
  auto* commits = app.add_subcommand("commits", "commits/s and latency by proposals in flight");
  commits->add_option("--seconds", seconds, "per in-flight level")->capture_default_str();
  commits->add_option("--entry-bytes", entry_bytes, "bytes per entry")->capture_default_str();
  auto* election = app.add_subcommand("election", "leader stopped -> new leader");
  election->add_option("--runs", runs, "leader stops")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  dfs::InitLogging("raft-bench", "warn");

  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
  Group g;
  dfs::Status s = g.Start(dir);
  if (!s.ok()) {
    fprintf(stderr, "raft-bench: %s\n", s.ToString().c_str());
    return 1;
  }
  int rc = *commits ? Commits(g, seconds, entry_bytes) : Election(g, runs);
  for (auto& [id, n] : g.nodes) {
    if (n) n->Stop();
  }
  std::filesystem::remove_all(dir, ec);
  return rc;
}
