// dfs-bench: throughput of the data path (io) and of the namenode (nn).
//
//   dfs-bench io --files 1 --size 1G --threads 1 [--replication 3]
//   dfs-bench nn --threads 16 --count 20000
//   dfs-bench --mini-cluster --namenodes 3 failover --runs 10
//   dfs-bench --mini-cluster --datanodes 5 heal --size 2G [--with-load]
//
// Runs against the cluster named by --conf / $DFS_CONF, or with --mini-cluster against a
// fresh local cluster (--namenodes namenodes, 4 datanodes) that it starts and removes.
// failover needs --mini-cluster: it SIGKILLs the leader and times how long until the
// next client write is acknowledged. heal needs it too: it writes --size of data, SIGKILLs
// a datanode, and times detection and re-replication back to full health.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>

#include <unistd.h>

#include "client/file_system.h"
#include "client/input_stream.h"
#include "client/output_stream.h"
#include "tests/cluster/mini_cluster.h"

namespace dfs {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// CPU seconds the whole machine has spent busy (every process, the kernel's interrupt
// work and time stolen by the hypervisor included), from /proc/stat; 0 if unreadable.
double BusyCpuSeconds() {
  FILE* f = fopen("/proc/stat", "r");
  if (!f) return 0;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0,
                     softirq = 0, steal = 0;
  int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system,
                 &idle, &iowait, &irq, &softirq, &steal);
  fclose(f);
  if (n != 8) return 0;
  return static_cast<double>(user + nice + system + irq + softirq + steal) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Runs fn(thread, i) for i in [0, count) split over threads; returns seconds taken.
Result<double> Parallel(int threads, uint64_t count,
                        const std::function<Status(int, uint64_t)>& fn) {
  std::atomic<uint64_t> next{0};
  std::mutex mu;
  Status first_error;
  auto start = Clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (uint64_t i; (i = next++) < count;) {
        Status s = fn(t, i);
        if (!s.ok()) {
          std::lock_guard<std::mutex> l(mu);
          if (first_error.ok()) first_error = s;
          return;
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  if (!first_error.ok()) return first_error;
  return Seconds(start);
}

int Io(FileSystem* fs, uint64_t files, uint64_t size, int threads, uint32_t replication) {
  std::string base = "/bench/io";
  fs->Delete(base, true);
  std::vector<char> buf(4 << 20);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<char>(i * 131 + i / 4096);
  auto w = Parallel(threads, files, [&](int, uint64_t i) -> Status {
    CreateOptions o;
    o.replication = replication;
    o.overwrite = true;
    ASSIGN_OR_RETURN(auto out, fs->Create(base + "/f" + std::to_string(i), o));
    for (uint64_t done = 0; done < size;) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - done));
      RETURN_IF_ERROR(out->Write(buf.data(), n));
      done += n;
    }
    return out->Close();
  });
  if (!w.ok()) {
    fprintf(stderr, "write failed: %s\n", w.status().ToString().c_str());
    return 1;
  }
  double mb = static_cast<double>(files * size) / 1e6;
  printf("write: %lu files x %lu bytes, replication %u, %d threads: %.2f s, %.1f MB/s\n", files,
         size, replication, threads, *w, mb / *w);
  auto r = Parallel(threads, files, [&](int, uint64_t i) -> Status {
    ASSIGN_OR_RETURN(auto in, fs->Open(base + "/f" + std::to_string(i)));
    std::vector<char> rbuf(4 << 20);
    uint64_t total = 0;
    for (;;) {
      ASSIGN_OR_RETURN(size_t n, in->Read(rbuf.data(), rbuf.size()));
      if (n == 0) break;
      total += n;
    }
    if (total != size) return DataLoss("read " + std::to_string(total) + " bytes");
    return Status::Ok();
  });
  if (!r.ok()) {
    fprintf(stderr, "read failed: %s\n", r.status().ToString().c_str());
    return 1;
  }
  printf("read:  %lu files x %lu bytes, %d threads: %.2f s, %.1f MB/s\n", files, size, threads,
         *r, mb / *r);
  fs->Delete(base, true);
  return 0;
}

int Nn(FileSystem* fs, int threads, uint64_t count) {
  std::string base = "/bench/nn";
  fs->Delete(base, true);
  for (int t = 0; t < threads; ++t) fs->Mkdirs(base + "/t" + std::to_string(t));
  auto path = [&](int t, uint64_t i) {
    return base + "/t" + std::to_string(t % threads) + "/f" + std::to_string(i);
  };
  struct Op {
    const char* name;
    std::function<Status(int, uint64_t)> fn;
  };
  std::vector<Op> ops = {
      {"create", [&](int t, uint64_t i) -> Status {
         ASSIGN_OR_RETURN(auto out, fs->Create(path(static_cast<int>(i), i)));
         return out->Close();
       }},
      {"mkdir", [&](int t, uint64_t i) { return fs->Mkdirs(path(static_cast<int>(i), i) + ".d"); }},
      {"stat", [&](int t, uint64_t i) { return fs->GetFileStatus(path(static_cast<int>(i), i)).status(); }},
      {"list", [&](int t, uint64_t i) {
         return fs->ListStatus(base + "/t" + std::to_string(i % static_cast<uint64_t>(threads)) +
                               "/f" + std::to_string(i) + ".d")
             .status();
       }},
      {"rename", [&](int t, uint64_t i) {
         return fs->Rename(path(static_cast<int>(i), i), path(static_cast<int>(i), i) + ".r");
       }},
      {"delete", [&](int t, uint64_t i) {
         return fs->Delete(path(static_cast<int>(i), i) + ".r", false);
       }},
  };
  for (const auto& op : ops) {
    double busy = BusyCpuSeconds();
    auto secs = Parallel(threads, count, op.fn);
    busy = BusyCpuSeconds() - busy;
    if (!secs.ok()) {
      fprintf(stderr, "%s failed: %s\n", op.name, secs.status().ToString().c_str());
      return 1;
    }
    printf("%-7s %lu ops, %d threads: %.2f s, %.0f ops/s, %.0f us of CPU per op (all "
           "processes)\n", op.name, count, threads, *secs, static_cast<double>(count) / *secs,
           busy * 1e6 / static_cast<double>(count));
  }
  fs->Delete(base, true);
  return 0;
}

// Leader kill to the first acknowledged write, `runs` times; the killed namenode is
// restarted (and caught up) between runs.
int Failover(MiniCluster* cluster, FileSystem* fs, int runs) {
  if (cluster->namenode_count() < 3) {
    fprintf(stderr, "dfs-bench: failover needs --mini-cluster --namenodes 3 (or 5)\n");
    return 2;
  }
  std::vector<double> times;
  for (int run = 0; run < runs; ++run) {
    int leader = cluster->WaitForLeader();
    if (leader < 0) {
      fprintf(stderr, "dfs-bench: no leader\n");
      return 1;
    }
    Status s = fs->Mkdirs("/bench/failover/warm" + std::to_string(run));
    if (!s.ok()) {
      fprintf(stderr, "dfs-bench: %s\n", s.ToString().c_str());
      return 1;
    }
    auto start = Clock::now();
    cluster->StopNamenode(leader);  // SIGKILL
    s = fs->Mkdirs("/bench/failover/after" + std::to_string(run));
    double secs = Seconds(start);
    if (!s.ok()) {
      fprintf(stderr, "dfs-bench: write after the kill: %s\n", s.ToString().c_str());
      return 1;
    }
    times.push_back(secs);
    printf("run %d: leader (namenode %d) killed; first write acknowledged after %.3f s\n", run,
           leader + 1, secs);
    s = cluster->StartNamenode(leader);
    if (!s.ok()) {
      fprintf(stderr, "dfs-bench: restarting namenode %d: %s\n", leader + 1, s.ToString().c_str());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));  // let it catch up and settle
  }
  std::sort(times.begin(), times.end());
  printf("failover: %d runs, median %.3f s, min %.3f s, max %.3f s\n", runs,
         times[times.size() / 2], times.front(), times.back());
  return 0;
}

// Writes `size` bytes, kills datanode 0, and times how long until it is declared dead and
// until every block has its replicas again; with_load keeps a reader going meanwhile.
int Heal(MiniCluster* cluster, FileSystem* fs, uint64_t size, bool with_load) {
  const uint64_t file_size = 256ull << 20;
  uint64_t nfiles = std::max<uint64_t>(1, size / file_size);
  std::vector<char> buf(4 << 20);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<char>(i * 131 + i / 4096);
  for (uint64_t f = 0; f < nfiles; ++f) {
    CreateOptions o;
    o.overwrite = true;
    auto out = fs->Create("/bench/heal/f" + std::to_string(f), o);
    Status s = out.status();
    for (uint64_t done = 0; s.ok() && done < file_size; done += buf.size()) {
      s = (*out)->Write(buf.data(), buf.size());
    }
    if (s.ok()) s = (*out)->Close();
    if (!s.ok()) {
      fprintf(stderr, "dfs-bench: write: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  auto report = fs->GetDatanodeReport();
  if (!report.ok()) return 1;
  uint64_t lost = 0;
  for (const auto& d : *report) {
    if (d.id().data_port() == cluster->datanode_port(0)) lost = d.used();
  }
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> read_bytes{0};
  std::thread reader;
  if (with_load) {
    reader = std::thread([&] {
      std::vector<char> rbuf(4 << 20);
      for (uint64_t f = 0; !stop; f = (f + 1) % nfiles) {
        auto in = fs->Open("/bench/heal/f" + std::to_string(f));
        if (!in.ok()) continue;
        for (;;) {
          auto n = (*in)->Read(rbuf.data(), rbuf.size());
          if (!n.ok() || *n == 0 || stop) break;
          read_bytes += *n;
        }
      }
    });
  }
  printf("heal: %lu MB written (replication 3, %d datanodes); datanode 1 holds %lu MB; "
         "killing it\n", nfiles * file_size / 1000000, cluster->datanode_count(), lost / 1000000);
  auto start = Clock::now();
  cluster->StopDatanode(0);
  double dead_at = 0;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto st = fs->GetStats();
    if (!st.ok()) continue;
    if (dead_at == 0 && st->dead_datanodes() > 0) dead_at = Seconds(start);
    if (dead_at > 0 && st->under_replicated_blocks() == 0) {
      auto fsck = fs->Fsck("/", false);
      if (fsck.ok() && fsck->under_replicated() == 0 && fsck->missing() == 0) break;
    }
  }
  double healthy_at = Seconds(start);
  uint64_t read_during = read_bytes.load();
  stop = true;
  if (reader.joinable()) reader.join();
  double copy_secs = healthy_at - dead_at;
  printf("heal: declared dead after %.1f s; full health after %.1f s (%.1f s of copying): "
         "%.1f MB/s healed%s\n",
         dead_at, healthy_at, copy_secs, static_cast<double>(lost) / 1e6 / copy_secs,
         with_load ? "" : " (no client load)");
  if (with_load) {
    printf("heal: a client read %.1f MB/s meanwhile\n",
           static_cast<double>(read_during) / 1e6 / healthy_at);
  }
  fs->Delete("/bench/heal", true);
  return 0;
}

}  // namespace
}  // namespace dfs

int main(int argc, char** argv) {
  using namespace dfs;
  CLI::App app{"dfs-bench: data path (io) and namenode (nn) throughput"};
  app.require_subcommand(1);
  std::string conf_path, size_text = "1G", block_size = "128M";
  bool mini = false;
  int threads = 1;
  uint64_t files = 1, count = 20000;
  uint32_t replication = 3;
  app.add_option("--conf", conf_path, "client configuration (default $DFS_CONF)");
  app.add_flag("--mini-cluster", mini, "start a local cluster (4 datanodes) for the run");
  int namenodes = 1, runs = 10, raft_tick_ms = 100, datanodes = 4, streams = 4;
  int64_t dead_interval_ms = 10'000;
  bool with_load = false;
  app.add_option("--datanodes", datanodes, "datanodes of the --mini-cluster")
      ->capture_default_str();
  app.add_option("--dead-interval-ms", dead_interval_ms,
                 "the --mini-cluster declares a silent datanode dead after this")
      ->capture_default_str();
  app.add_option("--replication-streams", streams,
                 "healing throttle of the --mini-cluster: copies per source datanode per second")
      ->capture_default_str();
  app.add_option("--namenodes", namenodes, "namenodes of the --mini-cluster")
      ->capture_default_str();
  app.add_option("--raft-tick-ms", raft_tick_ms, "Raft tick of the --mini-cluster's namenodes")
      ->capture_default_str();
  app.add_option("--block-size", block_size, "block size of the --mini-cluster")
      ->capture_default_str();
  app.add_option("--threads", threads, "client threads")->capture_default_str();
  auto* io = app.add_subcommand("io", "write then read files: MB/s");
  io->add_option("--files", files, "number of files")->capture_default_str();
  io->add_option("--size", size_text, "bytes per file (e.g. 1G)")->capture_default_str();
  io->add_option("--replication", replication, "replication")->capture_default_str();
  auto* nn = app.add_subcommand("nn", "create/mkdir/stat/list/rename/delete: ops/s");
  nn->add_option("--count", count, "operations of each kind")->capture_default_str();
  auto* failover =
      app.add_subcommand("failover", "kill the namenode leader: seconds to the next write");
  failover->add_option("--runs", runs, "leader kills")->capture_default_str();
  auto* heal = app.add_subcommand("heal", "kill a datanode: time back to full replication");
  heal->add_option("--size", size_text, "data written first (e.g. 2G)")->capture_default_str();
  heal->add_flag("--with-load", with_load, "a client reads the data while it heals");
  CLI11_PARSE(app, argc, argv);

  std::unique_ptr<MiniCluster> cluster;
  Config conf;
  if (mini) {
    MiniClusterOptions o;
    o.block_size = block_size;
    o.namenodes = namenodes;
    o.raft_tick_ms = raft_tick_ms;
    o.datanodes = datanodes;
    o.dead_interval_ms = dead_interval_ms;
    o.replication_streams = streams;
    auto c = MiniCluster::Start(o);
    if (!c.ok()) {
      fprintf(stderr, "dfs-bench: %s\n", c.status().ToString().c_str());
      return 1;
    }
    cluster = std::move(*c);
    conf = cluster->client_config();
  } else {
    auto c = LoadClientConfig(conf_path);
    if (!c.ok()) {
      fprintf(stderr, "dfs-bench: %s\n", c.status().message().c_str());
      return 2;
    }
    conf = *c;
  }
  auto fs = FileSystem::Connect(conf);
  if (!fs.ok()) {
    fprintf(stderr, "dfs-bench: %s\n", fs.status().message().c_str());
    return 2;
  }
  if (*io) {
    auto size = ParseSize(size_text);
    if (!size.ok()) {
      fprintf(stderr, "dfs-bench: --size: %s\n", size.status().message().c_str());
      return 2;
    }
    return Io(fs->get(), files, *size, threads, replication);
  }
  if (*heal) {
    auto size = ParseSize(size_text);
    if (!cluster || !size.ok()) {
      fprintf(stderr, "dfs-bench: heal needs --mini-cluster and a --size such as 2G\n");
      return 2;
    }
    return Heal(cluster.get(), fs->get(), *size, with_load);
  }
  if (*failover) {
    if (!cluster) {
      fprintf(stderr, "dfs-bench: failover needs --mini-cluster\n");
      return 2;
    }
    return Failover(cluster.get(), fs->get(), runs);
  }
  return Nn(fs->get(), threads, count);
}
