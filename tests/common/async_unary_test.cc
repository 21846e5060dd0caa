// AsyncUnaryServer with a real gRPC server and client on loopback: calls answered at once
// on the queue threads, later from another thread, or refused; and a shutdown with an
// answer still owed.
#include "common/async_unary.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "common/rpc.h"
#include "proto/namenode.grpc.pb.h"

namespace dfs {
namespace {

using namespace std::chrono_literals;
using Service = proto::ClientProtocol::WithAsyncMethod_GetFileInfo<proto::ClientProtocol::Service>;

std::atomic<int> owed{0};  // answers handlers still have to give

// "/later..." is answered 5 ms later from a thread of its own, "/bad" is refused, the
// rest at once; each answer names the path and the user who asked.
void Answer(grpc::ServerContext* ctx, const proto::GetFileInfoRequest* req,
            proto::GetFileInfoResponse* resp, AsyncUnaryServer::Done done) {
  if (req->path() == "/bad") return done(ToGrpc(InvalidArgument("bad path")));
  resp->mutable_status()->set_path(req->path());
  resp->mutable_status()->set_owner(GetMetadata(*ctx, kUserKey));
  if (req->path().rfind("/later", 0) != 0) return done(grpc::Status::OK);
  ++owed;
  std::thread([done = std::move(done)] {
    std::this_thread::sleep_for(5ms);
    done(grpc::Status::OK);
    --owed;
  }).detach();
}

TEST(AsyncUnaryServerTest, AnswersAtOnceLaterOrWithAnErrorFromTwoQueueThreads) {
  Service service;
  grpc::ServerBuilder builder;
  int port = 0;
  ConfigureServer(builder, "127.0.0.1:0", &port);
  AsyncUnaryServer async(&builder, 2);
  async.Handle(&service, &Service::RequestGetFileInfo, Answer);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  ASSERT_TRUE(server);
  async.Start();

  auto stub = proto::ClientProtocol::NewStub(MakeChannel("127.0.0.1:" + std::to_string(port)));
  std::atomic<int> wrong{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string path = i % 5 == 0   ? "/bad"
                           : i % 5 == 1 ? "/later/" + std::to_string(t * 100 + i)
                                        : "/now/" + std::to_string(t * 100 + i);
        grpc::ClientContext ctx;
        ctx.AddMetadata(kUserKey, "u" + std::to_string(t));
        proto::GetFileInfoRequest req;
        req.set_path(path);
        proto::GetFileInfoResponse resp;
        grpc::Status s = stub->GetFileInfo(&ctx, req, &resp);
        bool right = path == "/bad" ? s.error_code() == grpc::StatusCode::INVALID_ARGUMENT
                                    : s.ok() && resp.status().path() == path &&
                                          resp.status().owner() == "u" + std::to_string(t);
        if (!right) ++wrong;
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(wrong, 0);

  // A call whose answer comes after the server stopped taking calls: it is cancelled,
  // and the queues still drain and the threads end.
  grpc::ClientContext ctx;
  proto::GetFileInfoRequest req;
  req.set_path("/later/at-shutdown");
  proto::GetFileInfoResponse resp;
  std::thread late([&] { stub->GetFileInfo(&ctx, req, &resp); });
  std::this_thread::sleep_for(1ms);
  server->Shutdown(std::chrono::system_clock::now() + 100ms);
  late.join();
  while (owed > 0) std::this_thread::sleep_for(1ms);  // given, to a cancelled call
  async.Shutdown();
}

}  // namespace
}  // namespace dfs
