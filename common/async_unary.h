// AsyncUnaryServer: serves chosen unary methods of gRPC services on threads of our own,
// each call handled on the thread that took it from the network.
//
// gRPC's callback API hands every call from the thread that read it to another thread
// before the handler runs; on this project's 2-core machines that hand-off was a third
// of the server's CPU for a call (rpc-bench: ~30 us against ~19 us here). The methods
// served here are the hot ones, whose handlers never block (they answer at once, or
// later from another thread); the others stay synchronous on gRPC's own thread pool.
//
//   grpc::ServerBuilder builder;
//   AsyncUnaryServer async(&builder, 1);
//   async.Handle(&service, &Service::RequestGetFileInfo, handler);  // service: WithAsyncMethod_...
//   builder.RegisterService(&service);
//   auto server = builder.BuildAndStart();
//   async.Start();
//   ...
//   server->Shutdown(); async.Shutdown();  // after every call was answered or cancelled
//
// Thread-safe once started; Handle only before Start.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

namespace dfs {

class AsyncUnaryServer {
 public:
  // Answers the call with the status (and the response the handler filled, if OK).
  // Called exactly once, from any thread.
  using Done = std::function<void(grpc::Status)>;
  template <class Req, class Resp>
  using Handler = std::function<void(grpc::ServerContext*, const Req*, Resp*, Done)>;
  template <class Service, class Req, class Resp>
  using RequestMethod = void (Service::*)(grpc::ServerContext*, Req*,
                                          grpc::ServerAsyncResponseWriter<Resp>*,
                                          grpc::CompletionQueue*, grpc::ServerCompletionQueue*,
                                          void*);

  // Takes its completion queues from builder, before BuildAndStart.
  AsyncUnaryServer(grpc::ServerBuilder* builder, int threads);
  ~AsyncUnaryServer();

  // handler runs on a queue thread and must not block.
  // (Base is the generated WithAsyncMethod_ class that declares the request method.)
  template <class Service, class Base, class Req, class Resp>
  void Handle(Service* service, RequestMethod<Base, Req, Resp> request,
              std::type_identity_t<Handler<Req, Resp>> handler) {
    auto h = std::make_shared<Handler<Req, Resp>>(std::move(handler));
    Base* base = service;
    requesters_.push_back([base, request, h](grpc::ServerCompletionQueue* cq) {
      (new Call<Base, Req, Resp>(base, request, h, cq))->Request();
    });
  }

  // After BuildAndStart: starts taking calls.
  void Start();
  // After the server's Shutdown: drains the queues and joins the threads.
  void Shutdown();

  // A completion queue event: a call that arrived, or whose answer was sent.
  struct Tag {
    virtual ~Tag() = default;
    virtual void Proceed(bool ok) = 0;
  };

 private:
  template <class Service, class Req, class Resp>
  struct Call final : Tag {
    Call(Service* s, RequestMethod<Service, Req, Resp> r, std::shared_ptr<Handler<Req, Resp>> h,
         grpc::ServerCompletionQueue* q)
        : service(s), request(r), handler(std::move(h)), cq(q) {}

    void Request() { (service->*request)(&ctx, &req, &writer, cq, cq, this); }

    void Proceed(bool ok) override {
      if (answered || !ok) {  // answer sent, or the server is shutting down
        delete this;
        return;
      }
      (new Call(service, request, handler, cq))->Request();  // the next call of this method
      (*handler)(&ctx, &req, &resp, [this](grpc::Status s) {
        answered = true;
        if (s.ok())
          writer.Finish(resp, s, this);
        else
          writer.FinishWithError(s, this);
      });
    }

    Service* service;
    RequestMethod<Service, Req, Resp> request;
    std::shared_ptr<Handler<Req, Resp>> handler;
    grpc::ServerCompletionQueue* cq;
    grpc::ServerContext ctx;
    Req req;
    Resp resp;
    grpc::ServerAsyncResponseWriter<Resp> writer{&ctx};
    bool answered = false;
  };

  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs_;
  std::vector<std::function<void(grpc::ServerCompletionQueue*)>> requesters_;
  std::vector<std::thread> threads_;
  bool started_ = false;
  bool shut_down_ = false;
};

}  // namespace dfs
