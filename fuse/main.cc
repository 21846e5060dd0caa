// dfs-fuse: mounts the file system so ordinary tools work on it.
#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "common/logging.h"
#include "fuse/dfs_fuse.h"

namespace {

struct CliOptions {
  char* conf = nullptr;
  char* namenodes = nullptr;
  char* entry_timeout = nullptr;
  char* attr_timeout = nullptr;
};

#define OPT(t, p) {t, offsetof(CliOptions, p), 1}
const struct fuse_opt kOptSpec[] = {
    OPT("conf=%s", conf),
    OPT("namenodes=%s", namenodes),
    OPT("entry_timeout=%s", entry_timeout),
    OPT("attr_timeout=%s", attr_timeout),
    FUSE_OPT_END,
};

void Usage(const char* prog) {
  printf(
      "usage: %s [options] MOUNTPOINT\n\n"
      "Mounts the distributed file system at MOUNTPOINT.\n\n"
      "options:\n"
      "  -f                     stay in the foreground (default: become a daemon)\n"
      "  -d                     debug: foreground, and log every FUSE request\n"
      "  -o conf=FILE           client configuration (default: $DFS_CONF)\n"
      "  -o namenodes=H:P;H:P   the namenodes (instead of the configuration's); FUSE\n"
      "                         splits -o on commas, so separate them with ';'\n"
      "  -o ro                  read-only mount\n"
      "  -o allow_other         let other users use the mount (permissions still apply)\n"
      "  -o entry_timeout=SECS  how long the kernel caches names (default 1)\n"
      "  -o attr_timeout=SECS   how long the kernel caches attributes (default 1)\n\n"
      "Unmount with: fusermount3 -u MOUNTPOINT (or send SIGTERM)\n",
      prog);
}

// The kernel reads a FUSE file ahead in 128 KiB windows, its default for a new mount
// whatever max_readahead says. 1 MiB windows read large files sequentially about half
// again as fast here (fio, 1 GiB, caches dropped: median 1,202 against 801 MB/s over five
// runs each; 4 MiB windows were slower than either). Set through the mount's bdi in
// sysfs, which needs root; without it the mount keeps the default.
constexpr int kReadAheadKb = 1024;

// mountinfo writes a space, tab, newline or backslash in a path as \ooo (octal).
std::string UnescapeMountinfo(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

void WidenReadAhead(const char* mountpoint) {
  char abs[PATH_MAX];
  if (!realpath(mountpoint, abs)) return;
  // The device of the mount just made (the last entry for this path), e.g. "0:38",
  // read from /proc/self/mountinfo: a stat() of the mount point would ask this very
  // daemon, which does not answer yet.
  std::ifstream in("/proc/self/mountinfo");
  std::string line, device;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point;
    if (f >> id >> parent >> dev >> root >> point && UnescapeMountinfo(point) == abs) device = dev;
  }
  if (device.empty()) return;
  std::ofstream out("/sys/class/bdi/" + device + "/read_ahead_kb");
  out << kReadAheadKb << "\n";
  out.flush();
  if (!out) {
    spdlog::info("dfs-fuse: kernel readahead stays at its default (cannot write "
                 "/sys/class/bdi/{}/read_ahead_kb)", device);
  }
}

// gRPC does not survive fork(), so the mount becomes a daemon before it connects (not
// with fuse_daemonize after): the parent waits until the child has mounted or failed,
// and exits with its status. Returns in the child, or at once with -f.
int report_fd = -1;

void Daemonize() {
  int fds[2];
  if (pipe(fds) != 0) {
    perror("dfs-fuse: pipe");
    exit(1);
  }
  pid_t pid = fork();
  if (pid < 0) {
    perror("dfs-fuse: fork");
    exit(1);
  }
  if (pid > 0) {
    close(fds[1]);
    char rc = 1;  // stays 1 if the child dies before it reports
    if (read(fds[0], &rc, 1) != 1) rc = 1;
    _exit(rc);
  }
  close(fds[0]);
  report_fd = fds[1];
  setsid();
}

// Tells a waiting parent how mounting went; on success the daemon leaves the terminal.
void Report(int rc) {
  if (report_fd < 0) return;
  if (rc == 0) {
    if (chdir("/") != 0) rc = 1;
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
      if (null > 2) close(null);
    }
  }
  char c = static_cast<char>(rc);
  if (write(report_fd, &c, 1) != 1) {
    // The parent is gone; nothing to tell.
  }
  close(report_fd);
  report_fd = -1;
}

int Serve(struct fuse_args& args, CliOptions& cli, struct fuse_cmdline_opts& opts);

}  // namespace

int main(int argc, char** argv) {
  struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
  CliOptions cli;
  if (fuse_opt_parse(&args, &cli, kOptSpec, nullptr) != 0) return 2;
  struct fuse_cmdline_opts opts;
  if (fuse_parse_cmdline(&args, &opts) != 0) return 2;
  if (opts.show_help) {
    Usage(argv[0]);
    return 0;
  }
  if (opts.show_version) {
    printf("dfs-fuse, FUSE library %s\n", fuse_pkgversion());
    return 0;
  }
  if (!opts.mountpoint) {
    Usage(argv[0]);
    return 2;
  }
  dfs::InitLogging("dfs-fuse", opts.debug ? "debug" : "info");
  if (!opts.foreground) Daemonize();
  int rc = Serve(args, cli, opts);
  Report(rc);
  free(opts.mountpoint);
  fuse_opt_free_args(&args);
  return rc;
}

namespace {

int Serve(struct fuse_args& args, CliOptions& cli, struct fuse_cmdline_opts& opts) {

  auto conf = dfs::LoadClientConfig(cli.conf ? cli.conf : "");
  dfs::Config config;
  if (conf.ok()) {
    config = *conf;
  } else if (!cli.namenodes) {
    fprintf(stderr, "dfs-fuse: %s\n", conf.status().message().c_str());
    return 2;
  }
  if (cli.namenodes) {
    std::string list = cli.namenodes;
    std::replace(list.begin(), list.end(), ';', ',');
    config.Set("namenodes", list);
  }
  auto fs = dfs::FileSystem::Connect(config);
  if (!fs.ok()) {
    fprintf(stderr, "dfs-fuse: %s\n", fs.status().message().c_str());
    return 2;
  }
  if (auto st = (*fs)->GetStats(); !st.ok()) {
    fprintf(stderr, "dfs-fuse: cannot reach the namenode: %s\n", st.status().message().c_str());
    return 1;
  }

  dfs::Mount mount;
  mount.fs = std::move(*fs);
  if (cli.entry_timeout) mount.options.entry_timeout = atof(cli.entry_timeout);
  if (cli.attr_timeout) mount.options.attr_timeout = atof(cli.attr_timeout);
  // "ro" stays in args for the kernel; the mount refuses changes itself too.
  for (int i = 0; i < args.argc; ++i) {
    std::string a = args.argv[i];
    if (a.rfind("-o", 0) != 0) continue;
    std::string list = "," + a.substr(2) + ",";
    if (list.find(",ro,") != std::string::npos) mount.options.read_only = true;
  }
  // The kernel checks permissions against the modes and owners the mount reports.
  fuse_opt_add_arg(&args, "-odefault_permissions");
  fuse_opt_add_arg(&args, "-ofsname=dfs");
  fuse_opt_add_arg(&args, "-osubtype=dfs");

  struct fuse_session* se =
      fuse_session_new(&args, dfs::DfsFuseOperations(), sizeof(struct fuse_lowlevel_ops), &mount);
  if (!se) return 1;
  mount.session = se;
  int rc = 1;
  if (fuse_set_signal_handlers(se) == 0) {
    if (fuse_session_mount(se, opts.mountpoint) == 0) {
      WidenReadAhead(opts.mountpoint);
      Report(0);
      struct fuse_loop_config* loop = fuse_loop_cfg_create();
      fuse_loop_cfg_set_max_threads(loop, 32);
      rc = opts.singlethread ? fuse_session_loop(se) : fuse_session_loop_mt(se, loop);
      fuse_loop_cfg_destroy(loop);
      fuse_session_unmount(se);
    }
    fuse_remove_signal_handlers(se);
  }
  fuse_session_destroy(se);
  return rc == 0 ? 0 : 1;
}

}  // namespace
