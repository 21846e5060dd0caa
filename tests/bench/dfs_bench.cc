// dfs-bench: throughput of the data path (io) and of the namenode (nn).
//
//   dfs-bench io --files 1 --size 1G --threads 1 [--replication 3]
//   dfs-bench nn --threads 16 --count 20000
//   dfs-bench --threads 2 nn --in-flight 8 --count 20000    (the namenode's own capacity)
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
#include <mutex>
#include <thread>

#include <unistd.h>

#include "client/file_system.h"
#include "client/input_stream.h"
#include "client/output_stream.h"
#include "common/rpc.h"
#include "tests/bench/cpu_time.h"
#include "tests/cluster/mini_cluster.h"

namespace dfs {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
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

// nn --in-flight K: the namenode's own capacity, as Hadoop's NNThroughputBenchmark
// measures it (that one calls the namenode without its client library). Each thread keeps
// K operations going on its own completion queue with gRPC's async API, straight to the
// leader libdfs found, with the requests and call metadata libdfs would send. On these 2
// cores, 16 or 32 blocking client threads cost about as much CPU as the namenode itself.

// A namenode call in flight; Done runs on the thread that drives its completion queue.
struct AsyncCall {
  virtual ~AsyncCall() = default;
  virtual void Done(bool ok) = 0;
};

using Then = std::function<void(Status)>;

template <class Req, class Resp>
struct UnaryCall : AsyncCall {
  grpc::ClientContext ctx;
  Req req;
  Resp resp;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> rpc;
  std::function<void(Status, const Resp&)> then;
  void Done(bool ok) override {
    then(ok ? FromGrpc(status) : Unavailable("call lost"), resp);
    delete this;
  }
};

class AsyncClient {
 public:
  using Stub = proto::ClientProtocol::Stub;
  template <class Req, class Resp>
  using Prepare = std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> (Stub::*)(
      grpc::ClientContext*, const Req&, grpc::CompletionQueue*);

  AsyncClient(FileSystem* fs, grpc::CompletionQueue* cq) : fs_(fs), cq_(cq) {}

  template <class Req, class Resp>
  void Call(Prepare<Req, Resp> prepare, Req req, std::function<void(Status, const Resp&)> then) {
    auto* c = new UnaryCall<Req, Resp>;
    c->ctx.AddMetadata(kUserKey, fs_->user());
    c->ctx.AddMetadata(kClientIdKey, fs_->client_name());
    c->ctx.AddMetadata(kCallIdKey, std::to_string(next_call_id_++));
    c->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    c->req = std::move(req);
    c->then = std::move(then);
    c->rpc = (fs_->stub()->*prepare)(&c->ctx, c->req, cq_);
    c->rpc->StartCall();
    c->rpc->Finish(&c->resp, &c->status, static_cast<AsyncCall*>(c));
  }
  // For calls whose answer only matters by its status.
  template <class Req, class Resp>
  void Call(Prepare<Req, Resp> prepare, Req req, Then then) {
    Call<Req, Resp>(prepare, std::move(req), [then](Status s, const Resp&) { then(s); });
  }

 private:
  // One sequence for every call of every thread (the namenode's retry cache answers a
  // repeated id with the first call's result), apart from libdfs's own ids.
  static inline std::atomic<uint64_t> next_call_id_{uint64_t{1} << 40};
  FileSystem* fs_;
  grpc::CompletionQueue* cq_;
};

// Runs op(client, i, done) for i in [0, count), each of `threads` threads keeping
// in_flight of them going; returns seconds taken.
using AsyncOp = std::function<void(AsyncClient&, uint64_t, Then)>;
Result<double> ParallelAsync(FileSystem* fs, int threads, int in_flight, uint64_t count,
                             const AsyncOp& op) {
  std::atomic<uint64_t> next{0};
  std::mutex mu;
  Status first_error;
  auto start = Clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&] {
      grpc::CompletionQueue cq;
      AsyncClient client(fs, &cq);
      int pending = 0;
      std::function<void()> start_one = [&] {
        uint64_t i = next++;
        if (i >= count) return;
        ++pending;
        op(client, i, [&](Status s) {
          --pending;
          if (s.ok()) return start_one();
          std::lock_guard<std::mutex> l(mu);
          if (first_error.ok()) first_error = s;
          next = count;  // every thread stops starting operations
        });
      };
      for (int k = 0; k < in_flight; ++k) start_one();
      void* tag;
      bool ok;
      while (pending > 0 && cq.Next(&tag, &ok)) static_cast<AsyncCall*>(tag)->Done(ok);
      cq.Shutdown();
      while (cq.Next(&tag, &ok)) {
      }
    });
  }
  for (auto& t : ts) t.join();
  if (!first_error.ok()) return first_error;
  return Seconds(start);
}

int Nn(FileSystem* fs, int threads, int in_flight, uint64_t count,
       const std::vector<std::string>& only) {
  std::string base = "/bench/nn";
  fs->Delete(base, true);
  // A directory per operation in flight, as many as with blocking threads.
  const uint64_t dirs = static_cast<uint64_t>(threads) * static_cast<uint64_t>(std::max(in_flight, 1));
  for (uint64_t d = 0; d < dirs; ++d) fs->Mkdirs(base + "/t" + std::to_string(d));
  auto path = [&](uint64_t i) {
    return base + "/t" + std::to_string(i % dirs) + "/f" + std::to_string(i);
  };
  using P = proto::ClientProtocol::Stub;
  struct Op {
    const char* name;
    std::function<Status(uint64_t)> call;  // through libdfs
    AsyncOp async;                         // the same requests, --in-flight
  };
  std::vector<Op> ops = {
      {"create",
       [&](uint64_t i) -> Status {
         ASSIGN_OR_RETURN(auto out, fs->Create(path(i)));
         return out->Close();
       },
       [&](AsyncClient& c, uint64_t i, Then done) {
         proto::CreateRequest req;
         req.set_path(path(i));
         req.set_mode(0644);
         req.set_client_name(fs->client_name());
         req.set_create_parent(true);
         c.Call<proto::CreateRequest, proto::CreateResponse>(
             &P::PrepareAsyncCreate, std::move(req), [&c, &fs, p = path(i), done](Status s) {
               if (!s.ok()) return done(s);
               proto::CompleteRequest req;
               req.set_path(p);
               req.set_client_name(fs->client_name());
               c.Call<proto::CompleteRequest, proto::CompleteResponse>(
                   &P::PrepareAsyncComplete, std::move(req),
                   [done, p](Status s, const proto::CompleteResponse& r) {
                     if (s.ok() && !r.completed()) s = Internal(p + ": not completed");
                     done(s);
                   });
             });
       }},
      {"mkdir", [&](uint64_t i) { return fs->Mkdirs(path(i) + ".d"); },
       [&](AsyncClient& c, uint64_t i, Then done) {
         proto::MkdirsRequest req;
         req.set_path(path(i) + ".d");
         req.set_mode(0755);
         req.set_create_parent(true);
         c.Call<proto::MkdirsRequest, proto::MkdirsResponse>(&P::PrepareAsyncMkdirs,
                                                              std::move(req), done);
       }},
      {"stat", [&](uint64_t i) { return fs->GetFileStatus(path(i)).status(); },
       [&](AsyncClient& c, uint64_t i, Then done) {
         proto::GetFileInfoRequest req;
         req.set_path(path(i));
         c.Call<proto::GetFileInfoRequest, proto::GetFileInfoResponse>(
             &P::PrepareAsyncGetFileInfo, std::move(req), done);
       }},
      {"list", [&](uint64_t i) { return fs->ListStatus(path(i) + ".d").status(); },
       [&](AsyncClient& c, uint64_t i, Then done) {
         proto::ListStatusRequest req;
         req.set_path(path(i) + ".d");
         c.Call<proto::ListStatusRequest, proto::ListStatusResponse>(
             &P::PrepareAsyncListStatus, std::move(req), done);
       }},
      {"rename", [&](uint64_t i) { return fs->Rename(path(i), path(i) + ".r"); },
       [&](AsyncClient& c, uint64_t i, Then done) {
         proto::RenameRequest req;
         req.set_src(path(i));
         req.set_dst(path(i) + ".r");
         c.Call<proto::RenameRequest, proto::RenameResponse>(&P::PrepareAsyncRename,
                                                              std::move(req), done);
       }},
      {"delete", [&](uint64_t i) { return fs->Delete(path(i) + ".r", false); },
       [&](AsyncClient& c, uint64_t i, Then done) {
         proto::DeleteRequest req;
         req.set_path(path(i) + ".r");
         c.Call<proto::DeleteRequest, proto::DeleteResponse>(&P::PrepareAsyncDelete,
                                                              std::move(req), done);
       }},
  };
  for (const auto& op : ops) {
    if (!only.empty() && std::find(only.begin(), only.end(), op.name) == only.end()) continue;
    double busy = BusyCpuSeconds();
    auto secs = in_flight > 0 ? ParallelAsync(fs, threads, in_flight, count, op.async)
                              : Parallel(threads, count, [&](int, uint64_t i) { return op.call(i); });
    busy = BusyCpuSeconds() - busy;
    if (!secs.ok()) {
      fprintf(stderr, "%s failed: %s\n", op.name, secs.status().ToString().c_str());
      return 1;
    }
    std::string how = in_flight > 0 ? std::to_string(threads) + " threads x " +
                                          std::to_string(in_flight) + " async calls"
                                    : std::to_string(threads) + " threads";
    printf("%-7s %lu ops, %s: %.2f s, %.0f ops/s, %.0f us of CPU per op (all processes)\n",
           op.name, count, how.c_str(), *secs, static_cast<double>(count) / *secs,
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
  int in_flight = 0;
  std::vector<std::string> only;
  nn->add_option("--ops", only,
                 "run only these, in the usual order (stat, list, rename and delete need "
                 "what create and mkdir made)")
      ->delimiter(',')
      ->check(CLI::IsMember({"create", "mkdir", "stat", "list", "rename", "delete"}));
  nn->add_option("--in-flight", in_flight,
                 "each thread keeps this many calls going with gRPC's async API, straight to "
                 "the leader (0: one blocking libdfs call per thread)")
      ->capture_default_str();
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
  return Nn(fs->get(), threads, in_flight, count, only);
}
