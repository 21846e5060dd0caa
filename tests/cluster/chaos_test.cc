// Chaos: client threads write, read, append, rename and delete files of up to a few
// blocks while namenodes (any of the three, one at a time) are SIGKILLed or cut off from
// the others, and datanodes (up to two of five at a time) SIGKILLed, and all are started
// again or healed at random. Work goes on throughout:
// every call the clients make succeeds. Afterwards, with every process back and the
// blocks healed, everything acknowledged is there with its bytes, nothing deleted is,
// every block has its three replicas, and the namenodes hold identical namespaces.
//
// The short version (20 s of chaos) runs with every test; a long one:
//   DFS_CHAOS_SECONDS=600 ctest -R Chaos --output-on-failure      (in build/)
// DFS_CHAOS_SEED repeats a run's choices (it is printed at the start).
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "tests/cluster/mini_cluster.h"
#include "tests/cluster/namenode_group.h"
#include "tests/cluster/test_util.h"

namespace dfs {
namespace {

constexpr size_t kBlock = 1 << 20;

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoll(v, nullptr, 10) : fallback;
}

// What one client thread did that the cluster acknowledged.
struct Model {
  std::map<std::string, std::string> files;  // path -> content
  std::set<std::string> gone;                // deleted or renamed away
  // Appends that failed part-way: the file holds its old content and possibly some of
  // the new (an append is not atomic, in HDFS either).
  std::map<std::string, std::string> at_least;
  std::vector<std::string> errors;
  int operations = 0;
};

void ClientLoop(MiniCluster* c, int t, uint64_t seed, std::atomic<bool>* stop, Model* m) {
  std::mt19937_64 rng(seed);
  const size_t sizes[] = {0, 1, 4096, kBlock - 1, kBlock, kBlock + 1, 2 * kBlock + kBlock / 2};
  auto fs = c->Connect();
  std::string base = "/c" + std::to_string(t);
  auto fail = [&](const std::string& what, const Status& s) {
    m->errors.push_back(what + ": " + s.ToString());
  };
  if (Status s = fs->Mkdirs(base); !s.ok()) fail("mkdir " + base, s);
  for (int n = 0; !stop->load(); ++n) {
    ++m->operations;
    std::string f = base + "/f" + std::to_string(n);
    std::string data = TestData(seed + static_cast<uint64_t>(n), sizes[rng() % std::size(sizes)]);
    if (Status s = WriteFile(fs.get(), f, data); !s.ok()) {
      fail("write " + f, s);
      continue;
    }
    m->files[f] = data;
    // Then one more operation on a file written earlier.
    auto it = m->files.begin();
    std::advance(it, static_cast<long>(rng() % m->files.size()));
    std::string path = it->first;
    switch (rng() % 4) {
      case 0: {  // read it back
        auto got = ReadFile(fs.get(), path);
        if (!got.ok())
          fail("read " + path, got.status());
        else if (*got != it->second)
          m->errors.push_back("read " + path + ": other bytes");
        break;
      }
      case 1: {  // append to it
        std::string more = TestData(seed * 31 + static_cast<uint64_t>(n), rng() % kBlock);
        auto out = fs->Append(path);
        Status s = out.ok() ? (*out)->Write(more.data(), more.size()) : out.status();
        if (out.ok()) {
          Status closed = (*out)->Close();
          if (s.ok()) s = closed;
        }
        if (s.ok()) {
          it->second += more;
        } else {
          fail("append " + path, s);
          m->at_least[path] = it->second;
          m->files.erase(it);
        }
        break;
      }
      case 2: {  // rename it
        std::string to = path + "r";
        if (Status s = fs->RenameReplace(path, to); s.ok()) {
          m->files[to] = it->second;
          m->files.erase(path);
          m->gone.insert(path);
          m->gone.erase(to);
        } else {
          fail("rename " + path, s);
        }
        break;
      }
      case 3:  // delete it
        if (Status s = fs->Delete(path, false); s.ok()) {
          m->files.erase(path);
          m->gone.insert(path);
        } else {
          fail("delete " + path, s);
        }
        break;
    }
  }
}

// Kills and restarts processes until *stop: a namenode at a time is killed or cut off
// from the other namenodes (its Raft transport drops everything; clients still reach
// it), so the group keeps its majority; up to two datanodes at a time are killed (every
// block keeps a replica).
void ChaosLoop(MiniCluster* c, uint64_t seed, std::atomic<bool>* stop, std::string* log) {
  std::mt19937_64 rng(seed);
  int cut = -1;  // the namenode cut off, if any
  while (!stop->load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500 + rng() % 1500));
    if (stop->load()) break;
    if (rng() % 2 == 0) {
      int down = -1;
      for (int i = 0; i < c->namenode_count(); ++i) {
        if (!c->namenode_running(i)) down = i;
      }
      if (down >= 0) {
        Status s = c->StartNamenode(down);
        *log +=
            "start namenode " + std::to_string(down) + (s.ok() ? "" : ": " + s.ToString()) + "\n";
      } else if (cut >= 0) {
        kill(c->namenode_pid(cut), SIGUSR2);
        *log += "heal namenode " + std::to_string(cut) + "\n";
        cut = -1;
      } else {
        int victim = static_cast<int>(rng() % static_cast<uint64_t>(c->namenode_count()));
        bool leader = c->WaitForLeader(300) == victim;
        if (rng() % 3 == 0) {
          kill(c->namenode_pid(victim), SIGUSR1);
          cut = victim;
          *log += "cut namenode " + std::to_string(victim) + (leader ? " (leader)\n" : "\n");
        } else {
          c->StopNamenode(victim);
          *log += "kill namenode " + std::to_string(victim) + (leader ? " (leader)\n" : "\n");
        }
      }
    } else {
      std::vector<int> up, down;
      for (int i = 0; i < c->datanode_count(); ++i) {
        (c->datanode_pid(i) > 0 ? up : down).push_back(i);
      }
      bool kill = down.empty() || (down.size() < 2 && rng() % 2 == 0);
      if (kill) {
        int victim = up[rng() % up.size()];
        c->StopDatanode(victim);
        *log += "kill datanode " + std::to_string(victim) + "\n";
      } else {
        int back = down[rng() % down.size()];
        Status s = c->StartDatanode(back);
        *log +=
            "start datanode " + std::to_string(back) + (s.ok() ? "" : ": " + s.ToString()) + "\n";
      }
    }
  }
}

TEST(ChaosTest, NothingAcknowledgedIsLostWhileNamenodesAndDatanodesDie) {
  const int64_t seconds = EnvInt("DFS_CHAOS_SECONDS", 20);
  const uint64_t seed = static_cast<uint64_t>(EnvInt("DFS_CHAOS_SEED", std::random_device{}()));
  std::printf("chaos for %lld s, DFS_CHAOS_SEED=%llu\n", static_cast<long long>(seconds),
              static_cast<unsigned long long>(seed));
  MiniClusterOptions o;
  o.namenodes = 3;
  o.datanodes = 5;
  o.block_size = "1M";
  o.heartbeat_interval_ms = 300;
  o.dead_interval_ms = 3'000;  // some killed datanodes are declared dead and healed around
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  MiniCluster* cl = c->get();
  ASSERT_OK(cl->WaitForLiveDatanodes(5));

  constexpr int kClients = 4;
  std::atomic<bool> stop{false};
  std::vector<Model> models(kClients);
  std::vector<std::thread> clients;
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back(ClientLoop, cl, t, seed + static_cast<uint64_t>(t) * 1'000'003, &stop,
                         &models[static_cast<size_t>(t)]);
  }
  std::atomic<bool> calm{false};
  std::string log;
  std::thread chaos(ChaosLoop, cl, seed, &calm, &log);
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  calm = true;
  chaos.join();
  stop = true;
  for (auto& th : clients) th.join();
  std::printf("%s", log.c_str());

  // Everything back (a cut namenode healed), and the blocks healed.
  for (int i = 0; i < cl->namenode_count(); ++i) {
    if (cl->namenode_running(i)) kill(cl->namenode_pid(i), SIGUSR2);
    if (!cl->namenode_running(i)) ASSERT_OK(cl->StartNamenode(i));
  }
  for (int i = 0; i < cl->datanode_count(); ++i) {
    if (cl->datanode_pid(i) <= 0) ASSERT_OK(cl->StartDatanode(i));
  }
  ASSERT_OK(cl->WaitForLiveDatanodes(5, 60'000));
  auto fs = cl->Connect();
  proto::FsckResponse health;
  bool healed = WaitFor(
      [&] {
        auto r = fs->Fsck("/", false);
        if (!r.ok()) return false;
        health = *r;
        return r->under_replicated() == 0 && r->missing() == 0 && r->corrupt() == 0 &&
               r->mis_replicated() == 0;
      },
      120'000);
  EXPECT_TRUE(healed) << "not healed: " << health.under_replicated() << " under-replicated, "
                      << health.missing() << " missing, " << health.corrupt() << " corrupt, "
                      << health.mis_replicated() << " mis-replicated of " << health.blocks();

  int operations = 0;
  for (int t = 0; t < kClients; ++t) {
    const Model& m = models[static_cast<size_t>(t)];
    operations += m.operations;
    for (const auto& e : m.errors) ADD_FAILURE() << "client " << t << ": " << e;
    for (const auto& [path, data] : m.files) {
      auto got = ReadFile(fs.get(), path);
      ASSERT_TRUE(got.ok()) << path << ": " << got.status().ToString();
      EXPECT_TRUE(*got == data) << path << ": " << got->size() << " bytes, " << data.size()
                                << " acknowledged, or other bytes";
    }
    for (const auto& [path, prefix] : m.at_least) {
      auto got = ReadFile(fs.get(), path);
      ASSERT_TRUE(got.ok()) << path << ": " << got.status().ToString();
      EXPECT_TRUE(got->compare(0, prefix.size(), prefix) == 0)
          << path << " lost bytes it had before a failed append";
    }
    for (const auto& g : m.gone) {
      EXPECT_EQ(fs->GetFileStatus(g).status().code(), Code::kNotFound) << g;
    }
    auto listing = fs->ListStatus("/c" + std::to_string(t));
    ASSERT_TRUE(listing.ok()) << listing.status().ToString();
    EXPECT_EQ(listing->size(), m.files.size() + m.at_least.size())
        << "client " << t << ": files beyond those acknowledged";
  }
  EXPECT_GT(operations, kClients * 5) << "the clients did too little for the test to mean much";
  std::printf("%d operations\n", operations);
  ExpectIdenticalReplicas(cl);
}

}  // namespace
}  // namespace dfs
