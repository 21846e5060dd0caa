// mr-worker: runs MapReduce task attempts next to a datanode (see mapreduce/worker.h).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <filesystem>

#include "common/config.h"
#include "common/logging.h"
#include "common/rpc.h"
#include "mapreduce/task_names.h"
#include "mapreduce/worker.h"

int main(int argc, char** argv) {
  dfs::mr::WorkerOptions o;
  std::string conf_path, address = "127.0.0.1:0", log_level = "info";
  CLI::App app{"mr-worker: runs MapReduce tasks for the jobmaster, next to one datanode"};
  app.add_option("--jobmaster", o.jobmaster,
                 "jobmaster address host:port (default: the "
                 "client configuration's 'jobmaster')");
  app.add_option("--conf", conf_path, "client configuration (namenode, jobmaster)");
  app.add_option("--namenodes,--namenode", o.namenode,
                 "namenode host:port[,host:port...] (default: from --conf)");
  app.add_option("--datanode", o.datanode, "host:port of the datanode on this host")->required();
  app.add_option("--rack", o.rack, "this host's rack")->capture_default_str();
  app.add_option("--dir", o.dir, "local scratch directory")->required();
  app.add_option("--address", address, "shuffle service address (port 0 = any)")
      ->capture_default_str();
  app.add_option("--map-slots", o.map_slots, "map attempts at once")->capture_default_str();
  app.add_option("--reduce-slots", o.reduce_slots, "reduce attempts at once")
      ->capture_default_str();
  app.add_option("--heartbeat-ms", o.heartbeat_ms, "heartbeat interval")->capture_default_str();
  app.add_option("--log-level", log_level, "debug, info, warn or error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  dfs::InitLogging("mr-worker", log_level);

  if (o.namenode.empty() || o.jobmaster.empty()) {
    auto conf = dfs::LoadClientConfig(conf_path);
    if (!conf.ok()) {
      fprintf(stderr, "mr-worker: %s\n", conf.status().message().c_str());
      return 2;
    }
    if (o.namenode.empty()) o.namenode = dfs::mr::NamenodesOf(*conf);
    if (o.jobmaster.empty()) o.jobmaster = conf->GetString("jobmaster");
  }
  if (o.namenode.empty() || o.jobmaster.empty()) {
    fprintf(stderr, "mr-worker: need --namenode and --jobmaster (or a --conf naming them)\n");
    return 2;
  }
  o.bin_dir = std::filesystem::read_symlink("/proc/self/exe").parent_path().string();

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  auto fs = dfs::FileSystem::Connect(dfs::mr::NamenodeConfig(o.namenode));
  if (!fs.ok()) {
    spdlog::error("cannot connect to the namenode: {}", fs.status().ToString());
    return 1;
  }
  // Bind first, so the worker can tell the jobmaster its real shuffle address.
  grpc::ServerBuilder builder;
  int port = 0;
  dfs::ConfigureServer(builder, address, &port);
  std::unique_ptr<dfs::mr::Worker> worker;
  // The service must exist before BuildAndStart; its address is fixed right after.
  o.shuffle_address = address;
  worker = std::make_unique<dfs::mr::Worker>(o, std::move(*fs));
  builder.RegisterService(worker.get());
  auto server = builder.BuildAndStart();
  if (!server || port == 0) {
    spdlog::error("cannot listen on {}", address);
    return 1;
  }
  std::string host = address.substr(0, address.rfind(':'));
  worker->SetShuffleAddress(host + ":" + std::to_string(port));
  worker->Start();
  spdlog::info("mr-worker up: shuffle on {}:{}, jobmaster {}, datanode {}", host, port, o.jobmaster,
               o.datanode);
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("signal {}: shutting down", sig);
  worker->Stop();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  return 0;
}
