// rpc-bench: what a namenode call costs in gRPC alone, on this machine. A server in a
// child process answers GetFileInfo at once with a fixed file status (no namespace, no
// lock, no Raft); client threads call it as libdfs does (one channel, a fresh context
// with the same metadata and deadline per call). Its rate is the ceiling of
// `dfs-bench nn`'s stat with the same number of threads.
//
//   rpc-bench [--threads 16] [--seconds 3]
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include <sys/types.h>
#include <unistd.h>

#include "common/async_unary.h"
#include "common/rpc.h"
#include "proto/namenode.grpc.pb.h"
#include "tests/bench/cpu_time.h"

namespace dfs {
namespace {

using Clock = std::chrono::steady_clock;

// Served as the namenode serves its hot methods (common/async_unary.h).
using NullService =
    proto::ClientProtocol::WithAsyncMethod_GetFileInfo<proto::ClientProtocol::Service>;

void AnswerAtOnce(grpc::ServerContext* ctx, const proto::GetFileInfoRequest* req,
                  proto::GetFileInfoResponse* resp, AsyncUnaryServer::Done done) {
  auto* st = resp->mutable_status();
  st->set_path(req->path());
  st->set_length(0);
  st->set_owner(GetMetadata(*ctx, kUserKey));
  st->set_group("supergroup");
  st->set_mode(0644);
  done(grpc::Status::OK);
}

// Runs the server in a child process (forked before gRPC starts any thread) until the
// parent closes its end of the pipe; returns the port and the child's pid.
bool StartServer(int* port, pid_t* pid) {
  int up[2], down[2];
  if (pipe(up) != 0 || pipe(down) != 0) return false;
  *pid = fork();
  if (*pid < 0) return false;
  if (*pid == 0) {
    close(up[0]);
    close(down[1]);
    NullService service;
    grpc::ServerBuilder builder;
    int bound = 0;
    ConfigureServer(builder, "127.0.0.1:0", &bound);
    AsyncUnaryServer async(&builder, 1);
    async.Handle(&service, &NullService::RequestGetFileInfo, AnswerAtOnce);
    builder.RegisterService(&service);
    auto server = builder.BuildAndStart();
    if (!server) bound = 0;
    async.Start();
    if (write(up[1], &bound, sizeof bound) != sizeof bound) _exit(1);
    char c;
    while (read(down[0], &c, 1) > 0) {
    }
    _exit(0);  // the parent is done: no orderly shutdown needed
  }
  close(up[1]);
  close(down[0]);  // down[1] stays open in the parent until it exits
  return read(up[0], port, sizeof *port) == sizeof *port && *port != 0;
}

// Call i as libdfs makes it: the same metadata and deadline, a path like dfs-bench's.
void Prepare(uint64_t i, grpc::ClientContext* ctx, proto::GetFileInfoRequest* req) {
  ctx->AddMetadata(kUserKey, "bench");
  ctx->AddMetadata(kClientIdKey, "rpc-bench-client");
  ctx->AddMetadata(kCallIdKey, std::to_string(i));
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  req->set_path("/bench/nn/t" + std::to_string(i % 16) + "/f" + std::to_string(i));
}

int Run(int threads, int in_flight, double seconds) {
  int port = 0;
  pid_t pid = 0;
  if (!StartServer(&port, &pid)) {
    fprintf(stderr, "rpc-bench: cannot start the server\n");
    return 1;
  }
  auto stub = proto::ClientProtocol::NewStub(MakeChannel("127.0.0.1:" + std::to_string(port)));

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> calls{0}, failures{0};
  auto call = [&](uint64_t i) {
    grpc::ClientContext ctx;
    proto::GetFileInfoRequest req;
    Prepare(i, &ctx, &req);
    proto::GetFileInfoResponse resp;
    return stub->GetFileInfo(&ctx, req, &resp).ok();
  };
  for (uint64_t i = 0; i < 1000; ++i) call(i);  // connect and warm up

  double busy = BusyCpuSeconds();
  double server_cpu = ProcessCpuSeconds(pid);
  auto start = Clock::now();
  std::vector<std::thread> ts;
  if (in_flight == 0) {
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] {
        for (uint64_t i = static_cast<uint64_t>(t) << 32; !stop; ++i) {
          if (call(i)) ++calls;
          else ++failures;
        }
      });
    }
  } else {
    // Each thread keeps in_flight calls going on its own completion queue.
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] {
        struct Call {
          grpc::ClientContext ctx;
          proto::GetFileInfoRequest req;
          proto::GetFileInfoResponse resp;
          grpc::Status status;
          std::unique_ptr<grpc::ClientAsyncResponseReader<proto::GetFileInfoResponse>> rpc;
        };
        grpc::CompletionQueue cq;
        uint64_t i = static_cast<uint64_t>(t) << 32;
        auto start_call = [&] {
          auto* c = new Call;
          Prepare(i, &c->ctx, &c->req);
          ++i;
          c->rpc = stub->AsyncGetFileInfo(&c->ctx, c->req, &cq);
          c->rpc->Finish(&c->resp, &c->status, c);
        };
        for (int k = 0; k < in_flight; ++k) start_call();
        int pending = in_flight;
        void* tag;
        bool ok;
        while (pending > 0 && cq.Next(&tag, &ok)) {
          auto* c = static_cast<Call*>(tag);
          if (ok && c->status.ok()) ++calls;
          else ++failures;
          delete c;
          --pending;
          if (!stop) {
            start_call();
            ++pending;
          }
        }
      });
    }
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : ts) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  busy = BusyCpuSeconds() - busy;
  server_cpu = ProcessCpuSeconds(pid) - server_cpu;
  double n = static_cast<double>(std::max<uint64_t>(calls, 1));
  printf("null GetFileInfo, %d threads, %d in flight each: %.0f calls/s; CPU per call: "
         "%.0f us whole machine, %.0f us in the server process%s\n",
         threads, std::max(in_flight, 1), static_cast<double>(calls) / secs, busy * 1e6 / n,
         server_cpu * 1e6 / n, failures ? "; some calls FAILED" : "");
  return failures ? 1 : 0;
}

}  // namespace
}  // namespace dfs

int main(int argc, char** argv) {
  CLI::App app{"rpc-bench: the gRPC cost of one namenode call, with nothing behind it"};
  int threads = 16;
  double seconds = 3;
  int in_flight = 0;
  app.add_option("--threads", threads, "client threads")->capture_default_str();
  app.add_option("--seconds", seconds, "how long to call")->capture_default_str();
  app.add_option("--in-flight", in_flight,
                 "calls each thread keeps going with gRPC's async API (0: one blocking call)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return dfs::Run(threads, in_flight, seconds);
}
