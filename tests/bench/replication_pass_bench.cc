// replication-pass-bench: how long the namenode's once-a-second replication pass holds
// its lock, for a namespace of N single-block files with 3 reported replicas each.
//
//   replication-pass-bench [--blocks 1000000] [--passes 5]
//
// In one process, without a cluster: a Namespace, a DatanodeManager with four datanodes
// and a BlockManager, as on the leader. The first pass looks at every block (a new
// leader's); the others find nothing changed and cost one slice of the sweep.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "common/clock.h"
#include "namenode/block_manager.h"
#include "namenode/datanode_manager.h"
#include "namenode/namespace.h"
#include "tests/namenode/namespace_ops.h"

int main(int argc, char** argv) {
  using namespace dfs;
  uint64_t nblocks = 1'000'000;
  int passes = 5;
  CLI::App app{"replication-pass-bench: the replication monitor's pass time"};
  app.add_option("--blocks", nblocks, "files of one block each")->capture_default_str();
  app.add_option("--passes", passes, "passes to time")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  ManualClock clock;
  Namespace ns;
  OpBuilder ops;
  DatanodeManager datanodes(&clock, 30'000, Topology());
  BlockManager blocks(&ns, &datanodes);
  blocks.SetTracking(true);
  std::vector<proto::Block> all;
  all.reserve(nblocks);
  for (uint64_t i = 0; i < nblocks; ++i) {
    Status error;
    auto b = WriteFile(&ns, &ops, "/d" + std::to_string(i % 1000) + "/f" + std::to_string(i),
                       {100}, 3, &error);
    if (!error.ok()) {
      fprintf(stderr, "replication-pass-bench: %s\n", error.ToString().c_str());
      return 1;
    }
    all.push_back(b[0]);
  }
  for (const char* uuid : {"a", "b", "c", "d"}) {
    proto::DatanodeId id;
    id.set_uuid(uuid);
    id.set_host(std::string("host-") + uuid);
    proto::StorageReport storage;
    storage.set_capacity(1ull << 40);
    storage.set_remaining(1ull << 40);
    DatanodeState& dn = datanodes.Register(id, storage);
    if (std::string(uuid) == "d") continue;
    auto start = std::chrono::steady_clock::now();
    blocks.ProcessFullReport(&dn, all);
    printf("full block report of datanode %s: %lu blocks, %.1f ms\n", uuid, all.size(),
           std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
               .count());
  }
  for (int pass = 0; pass < passes; ++pass) {
    auto start = std::chrono::steady_clock::now();
    blocks.ComputeReplicationWork(4);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                    .count();
    printf("pass %d: %lu blocks looked at, %.1f ms\n", pass, blocks.last_pass_blocks(), ms);
  }
  return 0;
}
