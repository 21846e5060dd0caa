// datanode: stores block replicas and serves them.
#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <unistd.h>
#include <sstream>

#include "common/config.h"
#include "common/logging.h"
#include "common/net.h"
#include "datanode/datanode.h"

int main(int argc, char** argv) {
  dfs::DatanodeOptions o;
  std::string log_level = "info";
  CLI::App app{"datanode: stores block replicas on local disk and serves them"};
  app.add_option("--data-dir", o.data_dirs, "data directory (repeat for several disks)")
      ->required();
  std::string namenodes;
  app.add_option("--namenodes,--namenode", namenodes,
                 "every namenode replica, host:port,host:port,...")
      ->required();
  app.add_option("--host", o.host, "address clients and other datanodes use to reach this one")
      ->capture_default_str();
  app.add_option("--port", o.data_port, "data-transfer port (0 = any free port)")
      ->capture_default_str();
  app.add_option("--heartbeat-interval-ms", o.heartbeat_interval_ms, "heartbeat interval")
      ->capture_default_str();
  std::string scan_rate = "8M";
  app.add_option("--scan-period-ms", o.scan_period_ms,
                 "the block scanner re-verifies every replica this often")
      ->capture_default_str();
  app.add_option("--scan-rate", scan_rate, "block scanner read rate per second (e.g. 8M)")
      ->capture_default_str();
  app.add_option("--max-failed-volumes", o.max_failed_volumes,
                 "data directories that may fail before the datanode stops (default: any, as "
                 "long as one works)");
  app.add_option("--log-level", log_level, "debug, info, warn or error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  auto rate = dfs::ParseSize(scan_rate);
  if (!rate.ok() || *rate == 0) {
    fprintf(stderr, "datanode: --scan-rate must be a positive size such as 8M\n");
    return 2;
  }
  o.scan_bytes_per_second = *rate;
  std::stringstream ss(namenodes);
  for (std::string nn; std::getline(ss, nn, ',');) {
    if (!dfs::SplitHostPort(nn).ok()) {
      fprintf(stderr, "datanode: bad namenode address '%s' (want host:port)\n", nn.c_str());
      return 2;
    }
    o.namenodes.push_back(nn);
  }
  dfs::InitLogging("datanode", log_level);

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  std::atomic<bool> fatal{false};
  o.on_fatal = [&fatal](const dfs::Status&) {
    fatal = true;
    kill(getpid(), SIGTERM);
  };
  dfs::Datanode dn(o);
  auto port = dn.Start();
  if (!port.ok()) {
    spdlog::error("cannot start: {}", port.status().ToString());
    return 1;
  }
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("signal {}: shutting down", sig);
  dn.Stop();
  return fatal ? 1 : 0;
}
