// jobmaster: schedules MapReduce jobs on the workers (see mapreduce/jobmaster_service.h).
#include <CLI/CLI.hpp>
#include <csignal>

#include "common/config.h"
#include "common/logging.h"
#include "common/rpc.h"
#include "mapreduce/jobmaster_service.h"
#include "mapreduce/task_names.h"

int main(int argc, char** argv) {
  std::string address = "127.0.0.1:9890", conf_path, namenode, log_level = "info";
  dfs::mr::SchedulerOptions o;
  bool no_backups = false;
  CLI::App app{"jobmaster: schedules MapReduce jobs on the mr-workers"};
  app.add_option("--address", address, "listen address host:port")->capture_default_str();
  app.add_option("--conf", conf_path, "client configuration naming the namenode");
  app.add_option("--namenodes,--namenode", namenode,
                 "namenode host:port[,host:port...] (default: from --conf)");
  app.add_option("--worker-timeout-ms", o.worker_timeout_ms,
                 "a worker silent this long is lost and its tasks run elsewhere")
      ->capture_default_str();
  app.add_option("--locality-delay-ms", o.locality_delay_ms,
                 "how long a job waits for a data-local slot before running maps elsewhere")
      ->capture_default_str();
  app.add_option("--backup-min-ms", o.backup_min_ms,
                 "an attempt must run at least this long before it gets a backup")
      ->capture_default_str();
  app.add_flag("--no-backups", no_backups, "never launch backup attempts");
  app.add_option("--log-level", log_level, "debug, info, warn or error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  o.backups = !no_backups;
  dfs::InitLogging("jobmaster", log_level);
  if (namenode.empty()) {
    auto conf = dfs::LoadClientConfig(conf_path);
    if (!conf.ok()) {
      fprintf(stderr, "jobmaster: %s\n", conf.status().message().c_str());
      return 2;
    }
    namenode = dfs::mr::NamenodesOf(*conf);
  }
  auto fs = dfs::FileSystem::Connect(dfs::mr::NamenodeConfig(namenode));
  if (!fs.ok()) {
    fprintf(stderr, "jobmaster: %s\n", fs.status().message().c_str());
    return 2;
  }

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  dfs::mr::JobMasterService service(std::move(*fs), o);
  grpc::ServerBuilder builder;
  int port = 0;
  dfs::ConfigureServer(builder, address, &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (!server || port == 0) {
    spdlog::error("cannot listen on {}", address);
    return 1;
  }
  spdlog::info("jobmaster up on {}, namenode {}", address, namenode);
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("signal {}: shutting down", sig);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  return 0;
}
