// namenode: one replica of the namenode group; serves the namespace and manages block
// placement.
//
//   namenode --format --dir D --id 1 --peers 1=h1:9871,2=h2:9871,3=h3:9871
//       writes the initial state of a new group into D (on each first member), and exits
//   namenode --dir D --id 1 --address h1:9870
//       runs a formatted replica
//   namenode --dir D --id 4 --address h4:9870 --raft-address h4:9871
//       runs a new replica with an empty D; it joins once the leader is told to add it
//       (dfs admin namenode add 4 h4:9871)
#include <CLI/CLI.hpp>
#include <csignal>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include "common/clock.h"
#include "common/config.h"
#include "common/logging.h"
#include "common/net.h"
#include "namenode/namenode.h"

int main(int argc, char** argv) {
  dfs::NamenodeOptions o;
  std::string block_size = "128M";
  std::string log_level = "info";
  bool format = false;
  std::string peers;
  CLI::App app{"namenode: one replica of the namenode group, which keeps the file system "
               "namespace (replicated by Raft) and decides where blocks go"};
  app.add_option("--dir", o.dir, "directory for the Raft log and snapshots")->required();
  app.add_flag("--format", format,
               "write the initial state of a new namenode group into --dir, then exit");
  app.add_option("--id", o.id, "this replica's id in the group (1, 2, ...)")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  app.add_option("--peers", peers,
                 "with --format: the group's members as id=raft_host:port,... "
                 "(default: this replica alone, at --raft-address)");
  app.add_option("--raft-address", o.raft_address,
                 "where Raft listens (host:port): for --format of a group of one, or to "
                 "join a group with an empty --dir");
  app.add_option("--raft-tick-ms", o.raft_tick_ms,
                 "Raft tick; a leader is suspected dead after 10-20 ticks")
      ->capture_default_str()
      ->check(CLI::Range(5, 10000));
  app.add_option("--address", o.address, "gRPC listen address host:port")->capture_default_str();
  app.add_option("--dead-interval-ms", o.dead_interval_ms,
                 "a datanode silent this long is declared dead")
      ->capture_default_str();
  app.add_option("--block-size", block_size, "default block size (e.g. 4M, 128M)")
      ->capture_default_str();
  app.add_option("--replication", o.default_replication, "default replication factor")
      ->capture_default_str()
      ->check(CLI::Range(1, 32));
  app.add_option("--checkpoint-every", o.checkpoint_every, "log entries between snapshots")
      ->capture_default_str();
  app.add_option("--topology", o.topology_file, "file of 'host /rack' lines");
  app.add_option("--replication-streams", o.replication_streams,
                 "healing throttle: block copies started per source datanode per second")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--lease-limit-ms", o.lease_limit_ms,
                 "a writer not heard from this long loses its files, which are closed")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "debug, info, warn or error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto bs = dfs::ParseSize(block_size);
  if (!bs.ok() || *bs == 0 || *bs % 512 != 0) {
    fprintf(stderr, "namenode: --block-size must be a positive multiple of 512 bytes\n");
    return 2;
  }
  o.default_block_size = *bs;
  dfs::InitLogging("namenode", log_level);

  if (format) {
    std::map<uint64_t, std::string> members;
    if (peers.empty()) {
      if (o.raft_address.empty()) {
        fprintf(stderr, "namenode: --format needs --peers or --raft-address\n");
        return 2;
      }
      members[o.id] = o.raft_address;
    }
    std::stringstream ss(peers);
    std::string item;
    while (std::getline(ss, item, ',')) {
      size_t eq = item.find('=');
      uint64_t id = 0;
      if (eq != std::string::npos) id = std::strtoull(item.substr(0, eq).c_str(), nullptr, 10);
      if (id == 0 || eq + 1 >= item.size() || !dfs::SplitHostPort(item.substr(eq + 1)).ok() ||
          members.count(id)) {
        fprintf(stderr, "namenode: bad --peers entry '%s' (want id=host:port, ids distinct)\n",
                item.c_str());
        return 2;
      }
      members[id] = item.substr(eq + 1);
    }
    if (!members.count(o.id)) {
      fprintf(stderr, "namenode: --id %llu is not among --peers\n",
              static_cast<unsigned long long>(o.id));
      return 2;
    }
    dfs::Status s = dfs::raft::Node::Format(o.dir, members);
    if (!s.ok()) {
      fprintf(stderr, "namenode: cannot format %s: %s\n", o.dir.c_str(), s.ToString().c_str());
      return 1;
    }
    printf("formatted %s for namenode %llu of a group of %zu\n", o.dir.c_str(),
           static_cast<unsigned long long>(o.id), members.size());
    return 0;
  }
  if (!std::filesystem::exists(o.dir + "/raft") && o.raft_address.empty()) {
    fprintf(stderr,
            "namenode: %s is not formatted: run namenode --format first, or give "
            "--raft-address to join a running group\n",
            o.dir.c_str());
    return 2;
  }

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  // Fault injection for tests and drills: SIGUSR1 cuts this replica off from the other
  // namenodes (its Raft transport drops everything), SIGUSR2 heals the cut.
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  dfs::RealClock clock;
  dfs::Namenode nn(o, &clock);
  auto port = nn.Start();
  if (!port.ok()) {
    spdlog::error("cannot start: {}", port.status().ToString());
    return 1;
  }
  int sig = 0;
  while (sigwait(&set, &sig) == 0 && (sig == SIGUSR1 || sig == SIGUSR2)) {
    spdlog::warn("signal {}: Raft transport {}", sig, sig == SIGUSR1 ? "cut" : "healed");
    nn.raft().SetCut(sig == SIGUSR1);
  }
  spdlog::info("signal {}: shutting down", sig);
  nn.Shutdown();
  nn.Wait();
  return 0;
}
