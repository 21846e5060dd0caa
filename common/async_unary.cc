#include "common/async_unary.h"

namespace dfs {

AsyncUnaryServer::AsyncUnaryServer(grpc::ServerBuilder* builder, int threads) {
  for (int i = 0; i < threads; ++i) cqs_.push_back(builder->AddCompletionQueue());
}

AsyncUnaryServer::~AsyncUnaryServer() { Shutdown(); }

void AsyncUnaryServer::Start() {
  started_ = true;
  for (auto& cq : cqs_) {
    for (auto& request : requesters_) request(cq.get());
    threads_.emplace_back([cq = cq.get()] {
      void* tag;
      bool ok;
      while (cq->Next(&tag, &ok)) static_cast<Tag*>(tag)->Proceed(ok);
    });
  }
}

void AsyncUnaryServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  for (auto& cq : cqs_) cq->Shutdown();
  for (auto& t : threads_) t.join();
  if (!started_) {  // queues never served still have to be drained
    for (auto& cq : cqs_) {
      void* tag;
      bool ok;
      while (cq->Next(&tag, &ok)) static_cast<Tag*>(tag)->Proceed(false);
    }
  }
}

}  // namespace dfs
