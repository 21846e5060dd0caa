// posix-meta-bench: create, stat and unlink rates for N files in one directory through
// plain POSIX calls (for example on a dfs-fuse mount).
//
//   posix-meta-bench DIR [--files 10000] [--threads 1]
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  std::string dir;
  int files = 10000, threads = 1;
  CLI::App app{"posix-meta-bench: create/stat/unlink rates through POSIX calls"};
  app.add_option("dir", dir, "an empty or new directory (created)")->required();
  app.add_option("--files", files, "number of files")->capture_default_str();
  app.add_option("--threads", threads, "threads")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  mkdir(dir.c_str(), 0755);
  auto name = [&](int i) { return dir + "/f" + std::to_string(i); };
  auto run = [&](const char* op, const std::function<int(int)>& fn) {
    std::atomic<int> next{0}, failed{0};
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&] {
        for (int i; (i = next++) < files;) failed += fn(i) != 0;
      });
    }
    for (auto& t : ts) t.join();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    printf("%-7s %d files, %d threads: %.2f s, %.0f ops/s%s\n", op, files, threads, secs,
           files / secs, failed ? " (with failures)" : "");
    return failed.load();
  };
  int bad = 0;
  bad += run("create", [&](int i) {
    int fd = open(name(i).c_str(), O_CREAT | O_WRONLY | O_EXCL, 0644);
    return fd < 0 ? -1 : close(fd);
  });
  bad += run("stat", [&](int i) {
    struct stat st;
    return stat(name(i).c_str(), &st);
  });
  bad += run("unlink", [&](int i) { return unlink(name(i).c_str()); });
  rmdir(dir.c_str());
  return bad ? 1 : 0;
}
