// dfs-fuse: mounts the file system so ordinary tools work on it.
#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

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
      fuse_daemonize(opts.foreground);
      struct fuse_loop_config* loop = fuse_loop_cfg_create();
      fuse_loop_cfg_set_max_threads(loop, 32);
      rc = opts.singlethread ? fuse_session_loop(se) : fuse_session_loop_mt(se, loop);
      fuse_loop_cfg_destroy(loop);
      fuse_session_unmount(se);
    }
    fuse_remove_signal_handlers(se);
  }
  fuse_session_destroy(se);
  free(opts.mountpoint);
  fuse_opt_free_args(&args);
  return rc == 0 ? 0 : 1;
}
