// namenode: serves the namespace and manages block placement.
#include <CLI/CLI.hpp>
#include <csignal>
#include <thread>

#include "common/clock.h"
#include "common/config.h"
#include "common/logging.h"
#include "namenode/namenode.h"

int main(int argc, char** argv) {
  dfs::NamenodeOptions o;
  std::string block_size = "128M";
  std::string log_level = "info";
  CLI::App app{"namenode: keeps the file system namespace and decides where blocks go"};
  app.add_option("--dir", o.dir, "directory for the edit log and checkpoint image")->required();
  app.add_option("--address", o.address, "gRPC listen address host:port")->capture_default_str();
  app.add_option("--dead-interval-ms", o.dead_interval_ms,
                 "a datanode silent this long is declared dead")
      ->capture_default_str();
  app.add_option("--block-size", block_size, "default block size (e.g. 4M, 128M)")
      ->capture_default_str();
  app.add_option("--replication", o.default_replication, "default replication factor")
      ->capture_default_str()
      ->check(CLI::Range(1, 32));
  app.add_option("--checkpoint-every", o.checkpoint_every, "log entries between checkpoints")
      ->capture_default_str();
  app.add_option("--topology", o.topology_file, "file of 'host /rack' lines");
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

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  dfs::RealClock clock;
  dfs::Namenode nn(o, &clock);
  auto port = nn.Start();
  if (!port.ok()) {
    spdlog::error("cannot start: {}", port.status().ToString());
    return 1;
  }
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("signal {}: shutting down", sig);
  nn.Shutdown();
  nn.Wait();
  return 0;
}
