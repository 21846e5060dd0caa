// Helpers for tests of the namenode group: one replica's status, and a check that every
// running replica holds the same namespace.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>

#include "common/rpc.h"
#include "tests/cluster/mini_cluster.h"
#include "tests/cluster/test_util.h"

namespace dfs {

inline Result<proto::GetNamenodeStatusResponse> NamenodeStatus(MiniCluster* c, int i, bool digest) {
  auto stub = proto::ClientProtocol::NewStub(MakeChannel(c->namenode_address(i)));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  proto::GetNamenodeStatusRequest req;
  req.set_digest(digest);
  proto::GetNamenodeStatusResponse resp;
  RETURN_IF_ERROR(FromGrpc(stub->GetNamenodeStatus(&ctx, req, &resp)));
  return resp;
}

// Waits until every running namenode has applied the same entries, then checks that
// their namespaces are identical.
inline void ExpectIdenticalReplicas(MiniCluster* c) {
  std::map<int, proto::GetNamenodeStatusResponse> views;
  bool same = WaitFor(
      [&] {
        views.clear();
        std::set<uint64_t> applied;
        for (int i = 0; i < c->namenode_count(); ++i) {
          if (!c->namenode_running(i)) continue;
          auto st = NamenodeStatus(c, i, /*digest=*/true);
          if (!st.ok()) return false;
          views[i] = *st;
          applied.insert(st->digest_index());
        }
        return applied.size() == 1;
      },
      20'000);
  ASSERT_TRUE(same) << "replicas did not converge to one applied index";
  std::string digest = views.begin()->second.namespace_digest();
  for (const auto& [i, v] : views) {
    EXPECT_EQ(v.namespace_digest(), digest)
        << "namenode " << i << " at index " << v.digest_index() << " differs";
  }
}

}  // namespace dfs
