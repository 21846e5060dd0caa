// image-bench: how long the namenode takes to save and to load a checkpoint image (the
// Raft snapshot) of N files. The apply thread saves it every `snapshot_every` entries,
// and no change is applied meanwhile; a replica restarting or catching up loads one.
//
//   image-bench [--files 1000000] [--dir /tmp]
//
// In one process, without a cluster: N one-block files in 1,000 directories.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "namenode/namespace.h"
#include "tests/namenode/namespace_ops.h"

namespace {
double MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}
}  // namespace

int main(int argc, char** argv) {
  using namespace dfs;
  uint64_t files = 1'000'000;
  std::string dir = "/tmp";
  CLI::App app{"image-bench: checkpoint image save and load time"};
  app.add_option("--files", files, "files of one block each")->capture_default_str();
  app.add_option("--dir", dir, "where the image is written (and removed)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  Namespace ns;
  OpBuilder ops;
  for (uint64_t i = 0; i < files; ++i) {
    Status error;
    WriteFile(&ns, &ops, "/d" + std::to_string(i % 1000) + "/f" + std::to_string(i), {100}, 3,
              &error);
    if (!error.ok()) {
      fprintf(stderr, "image-bench: %s\n", error.ToString().c_str());
      return 1;
    }
  }
  std::string path = dir + "/image-bench-" + std::to_string(getpid());
  for (int run = 0; run < 2; ++run) {
    auto start = std::chrono::steady_clock::now();
    Status s = ns.SaveImage(path, 1, {});
    if (!s.ok()) {
      fprintf(stderr, "image-bench: %s\n", s.ToString().c_str());
      return 1;
    }
    printf("save: %lu files, %.1f MB, %.0f ms\n", files,
           static_cast<double>(std::filesystem::file_size(path)) / 1e6, MsSince(start));
  }
  for (int run = 0; run < 2; ++run) {
    Namespace loaded;
    std::vector<std::string> extra;
    auto start = std::chrono::steady_clock::now();
    auto r = loaded.LoadImage(path, &extra);
    if (!r.ok()) {
      fprintf(stderr, "image-bench: %s\n", r.status().ToString().c_str());
      return 1;
    }
    printf("load: %lu files, %.0f ms\n", files, MsSince(start));
  }
  std::filesystem::remove(path);
  return 0;
}
