// dfs: the command-line client. Each subcommand is a small function over libdfs.

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

#include "client/cli_util.h"
#include "client/dfs_admin.h"
#include "client/dfs_copy.h"
#include "client/dfs_permissions.h"
#include "client/file_system.h"
#include "client/glob.h"
#include "client/output_stream.h"

namespace dfs {
namespace {

std::unique_ptr<FileSystem> g_fs;

std::string ModeString(const FileStatus& s) {
  std::string m = s.type() == proto::DIRECTORY ? "d" : "-";
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) m += (s.mode() & (1u << (8 - i))) ? rwx[i] : '-';
  if (s.mode() & 01000) m.back() = m.back() == 'x' ? 't' : 'T';  // sticky
  return m;
}

std::string TimeString(int64_t ms) {
  time_t t = static_cast<time_t>(ms / 1000);
  struct tm tm;
  localtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

void PrintStatus(const FileStatus& s, bool human) {
  bool dir = s.type() == proto::DIRECTORY;
  printf("%s %3s %-8s %-10s %10s %s %s\n", ModeString(s).c_str(),
         dir ? "-" : std::to_string(s.replication()).c_str(), s.owner().c_str(), s.group().c_str(),
         HumanSize(s.length(), human).c_str(), TimeString(s.mtime_ms()).c_str(), s.path().c_str());
}

int Ls(const std::vector<std::string>& paths, bool recursive, bool human) {
  int rc = 0;
  std::vector<std::string> todo = paths.empty() ? std::vector<std::string>{"/"} : paths;
  for (const auto& p : todo) {
    auto st = g_fs->GetFileStatus(p);
    if (!st.ok()) {
      rc = Fail(p, st.status());
      continue;
    }
    if (st->type() != proto::DIRECTORY) {
      PrintStatus(*st, human);
      continue;
    }
    auto entries = g_fs->ListStatus(p);
    if (!entries.ok()) {
      rc = Fail(p, entries.status());
      continue;
    }
    if (!recursive) printf("Found %zu items\n", entries->size());
    for (const auto& e : *entries) {
      PrintStatus(e, human);
      if (recursive && e.type() == proto::DIRECTORY) rc |= Ls({e.path()}, true, human);
    }
  }
  return rc;
}

int Du(const std::vector<std::string>& paths, bool summary, bool human) {
  int rc = 0;
  for (const auto& p : paths.empty() ? std::vector<std::string>{"/"} : paths) {
    std::vector<std::string> targets = {p};
    if (!summary) {
      auto entries = g_fs->ListStatus(p);
      if (!entries.ok()) {
        rc = Fail(p, entries.status());
        continue;
      }
      targets.clear();
      for (const auto& e : *entries) targets.push_back(e.path());
    }
    for (const auto& t : targets) {
      auto cs = g_fs->GetContentSummary(t);
      if (!cs.ok()) {
        rc = Fail(t, cs.status());
        continue;
      }
      printf("%-10s %-10s %s\n", HumanSize(cs->length, human).c_str(),
             HumanSize(cs->space_consumed, human).c_str(), NormalizePath(t).c_str());
    }
  }
  return rc;
}

// HDFS's count: directories (the path's own included), files, bytes, path.
int Count(const std::vector<std::string>& paths, bool human) {
  int rc = 0;
  for (const auto& p : paths) {
    auto cs = g_fs->GetContentSummary(p);
    if (!cs.ok()) {
      rc = Fail(p, cs.status());
      continue;
    }
    printf("%12lu %12lu %18s %s\n", cs->directory_count, cs->file_count,
           HumanSize(cs->length, human).c_str(), NormalizePath(p).c_str());
  }
  return rc;
}

int Df(bool human) {
  auto st = g_fs->GetStats();
  if (!st.ok()) return Fail("df", st.status());
  printf("%-12s %12s %12s %12s %5s\n", "Filesystem", "Size", "Used", "Available", "Use%");
  double pct = st->capacity() ? 100.0 * static_cast<double>(st->used()) /
                                    static_cast<double>(st->capacity())
                              : 0;
  printf("%-12s %12s %12s %12s %4.0f%%\n", "dfs://", HumanSize(st->capacity(), human).c_str(),
         HumanSize(st->used(), human).c_str(), HumanSize(st->remaining(), human).c_str(), pct);
  return 0;
}

int Stat(const std::string& path) {
  auto st = g_fs->GetFileStatus(path);
  if (!st.ok()) return Fail(path, st.status());
  bool dir = st->type() == proto::DIRECTORY;
  printf("  Path: %s\n  Type: %s%s\n  Size: %lu\n", st->path().c_str(),
         dir ? "directory" : "file", st->under_construction() ? " (being written)" : "",
         st->length());
  if (!dir) printf("  Replication: %u\n  Block size: %lu\n", st->replication(), st->block_size());
  printf("  Owner: %s\n  Group: %s\n  Permission: %s (%04o)\n  Modified: %s\n  Inode: %lu\n",
         st->owner().c_str(), st->group().c_str(), ModeString(*st).c_str(), st->mode(),
         TimeString(st->mtime_ms()).c_str(), st->inode_id());
  return 0;
}

// Of a file, or of every file under a directory (as HDFS's setrep).
int Setrep(uint32_t replication, const std::string& path, bool wait) {
  std::vector<std::string> set;
  int rc = ForEachPath(g_fs.get(), {path}, true, [&](const FileStatus& st) -> Status {
    if (st.type() == proto::DIRECTORY) return Status::Ok();
    RETURN_IF_ERROR(g_fs->SetReplication(st.path(), replication));
    printf("Replication %u set: %s\n", replication, st.path().c_str());
    set.push_back(st.path());
    return Status::Ok();
  });
  if (!wait) return rc;
  for (const std::string& f : set) {
    for (;;) {
      proto::GetBlockLocationsRequest req;
      req.set_path(f);
      proto::GetBlockLocationsResponse resp;
      Status s = g_fs->Call(
          [&](grpc::ClientContext* c) { return g_fs->stub()->GetBlockLocations(c, req, &resp); });
      if (!s.ok()) {
        rc = Fail(f, s);  // deleted meanwhile, say: the others are still waited for
        break;
      }
      bool done = true;
      for (const auto& b : resp.blocks()) {
        done &= b.locations_size() == static_cast<int>(replication);
      }
      if (done) {
        printf("Replication reached for %s\n", f.c_str());
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  return rc;
}

int AdminReport() {
  auto st = g_fs->GetStats();
  if (!st.ok()) return Fail("admin report", st.status());
  auto dns = g_fs->GetDatanodeReport();
  if (!dns.ok()) return Fail("admin report", dns.status());
  printf("Configured capacity: %s\nUsed: %s\nRemaining: %s\nFiles: %lu  Directories: %lu  "
         "Blocks: %lu\nUnder-replicated blocks: %lu\nCorrupt replicas: %lu\n"
         "Live datanodes: %u  Dead datanodes: %u\n\n",
         HumanSize(st->capacity(), true).c_str(), HumanSize(st->used(), true).c_str(),
         HumanSize(st->remaining(), true).c_str(), st->files(), st->directories(), st->blocks(),
         st->under_replicated_blocks(), st->corrupt_replicas(), st->live_datanodes(),
         st->dead_datanodes());
  for (const auto& d : *dns) {
    printf("%s  %s:%u  %s  %s  rack %s  blocks %u  capacity %s  used %s  remaining %s  "
           "failed volumes %d  last heartbeat %.1fs ago\n",
           d.id().uuid().c_str(), d.id().host().c_str(), d.id().data_port(),
           !d.live() ? "DEAD" : d.stale() ? "STALE" : "live", d.admin_state().c_str(),
           d.id().rack().c_str(),
           d.blocks(), HumanSize(d.capacity(), true).c_str(), HumanSize(d.used(), true).c_str(),
           HumanSize(d.remaining(), true).c_str(), d.failed_volumes_size(),
           static_cast<double>(d.last_heartbeat_ms_ago()) / 1000);
    for (const auto& v : d.failed_volumes()) printf("    failed volume: %s\n", v.c_str());
  }
  return 0;
}

// HDFS-style fsck report; exit 1 when a block is missing or has corrupt replicas.
int Fsck(const std::string& path, bool files, bool blocks, bool locations) {
  auto r = g_fs->Fsck(path, files || blocks || locations);
  if (!r.ok()) return Fail(path, r.status());
  for (const auto& f : r->entries()) {
    bool missing = false, corrupt = false, under = false;
    for (const auto& b : f.blocks()) {
      missing |= b.good_replicas() == 0;
      corrupt |= b.corrupt_replicas() > 0;
      under |= b.good_replicas() < f.replication();
    }
    const char* verdict = missing ? "MISSING BLOCKS" : corrupt ? "CORRUPT REPLICAS"
                          : under ? "Under replicated" : "OK";
    printf("%s %lu bytes, replication %u, %d block(s)%s: %s\n", f.path().c_str(), f.length(),
           f.replication(), f.blocks_size(), f.under_construction() ? " (being written)" : "",
           verdict);
    if (!blocks && !locations) continue;
    int i = 0;
    for (const auto& b : f.blocks()) {
      printf(" %d. blk_%lu_%lu len=%lu live_repl=%u corrupt_repl=%u%s", i++, b.block().id(),
             b.block().generation_stamp(), b.block().num_bytes(), b.good_replicas(),
             b.corrupt_replicas(), b.mis_replicated() ? " MIS-REPLICATED" : "");
      if (locations) {
        printf(" [");
        for (int j = 0; j < b.locations_size(); ++j) {
          const auto& d = b.locations(j);
          printf("%s%s:%u %s", j ? ", " : "", d.host().c_str(), d.data_port(), d.rack().c_str());
        }
        printf("]");
      }
      printf("\n");
    }
  }
  bool healthy = r->missing() == 0 && r->corrupt() == 0;
  printf("\nStatus: %s\n Total size: %lu B\n Total dirs: %lu\n Total files: %lu\n"
         " Total blocks: %lu\n Under-replicated blocks: %lu\n Mis-replicated blocks: %lu\n"
         " Blocks with corrupt replicas: %lu\n Missing blocks: %lu\n%s",
         healthy ? "HEALTHY" : "CORRUPT", r->total_bytes(), r->directories(), r->files(),
         r->blocks(), r->under_replicated(), r->mis_replicated(), r->corrupt(), r->missing(),
         r->truncated() ? " (file list truncated)\n" : "");
  printf("\nThe filesystem under path '%s' is %s\n", NormalizePath(path).c_str(),
         healthy ? "HEALTHY" : "CORRUPT");
  return healthy ? 0 : 1;
}

}  // namespace
}  // namespace dfs

int main(int argc, char** argv) {
  using namespace dfs;
  // HDFS spells fsck's and getmerge's options with one dash.
  std::vector<std::string> rewritten(argv, argv + argc);
  bool getmerge_args = false;
  for (auto& a : rewritten) {
    if (a == "--") break;  // what follows is paths
    if (a == "-files" || a == "-blocks" || a == "-locations" || (a == "-nl" && getmerge_args)) {
      a = "-" + a;
    }
    getmerge_args |= a == "getmerge";
  }
  std::vector<char*> args;
  for (auto& a : rewritten) args.push_back(a.data());
  argc = static_cast<int>(args.size());
  argv = args.data();
  CLI::App app{"dfs: use the distributed file system (configuration from --conf or $DFS_CONF)"};
  app.require_subcommand(1);
  std::string conf_path;
  app.add_option("--conf", conf_path, "client configuration file");
  std::vector<std::string> paths;
  bool recursive = false, human = false, parents = false, force = false, summary = false,
       wait = false;
  uint32_t replication = 0;
  std::string block_size;
  int rc = 0;

  auto* ls = app.add_subcommand("ls", "list a directory or show a file");
  ls->add_flag("-R", recursive, "recurse into subdirectories");
  ls->add_flag("-H,--human", human, "sizes like 1.5M");
  ls->add_option("paths", paths, "paths (default /)");
  auto* mkdir = app.add_subcommand("mkdir", "create directories");
  mkdir->add_flag("-p", parents, "create parents; no error if it exists");
  mkdir->add_option("paths", paths)->required();
  auto* put = app.add_subcommand(
      "put", "copy local files and directories (or - for stdin) into the file system");
  put->add_flag("-f", force, "overwrite existing files");
  put->add_option("-r,--replication", replication, "replication factor");
  put->add_option("-b,--block-size", block_size, "block size (e.g. 64M)");
  put->add_option("args", paths, "local sources... remote destination")
      ->required()
      ->expected(2, -1);
  auto* get =
      app.add_subcommand("get", "copy files and directories to the local disk (- for stdout)");
  get->add_flag("-f", force, "overwrite existing local files");
  get->add_option("args", paths, "remote sources... local destination")
      ->required()
      ->expected(2, -1);
  auto* cat = app.add_subcommand("cat", "print files");
  cat->add_option("paths", paths)->required();
  auto* head = app.add_subcommand("head", "print the first kilobyte of a file");
  head->add_option("path", paths)->required()->expected(1);
  auto* tail = app.add_subcommand("tail", "print the last kilobyte of a file");
  tail->add_option("path", paths)->required()->expected(1);
  auto* rm = app.add_subcommand("rm", "delete files or directories");
  rm->add_flag("-r", recursive, "delete directories and their contents");
  rm->add_flag("-f", force, "no error if a path does not exist");
  rm->add_option("paths", paths)->required();
  auto* rmdir = app.add_subcommand("rmdir", "delete empty directories");
  rmdir->add_option("paths", paths)->required();
  auto* mv = app.add_subcommand("mv", "move or rename");
  mv->add_option("args", paths, "sources... destination")->required();
  auto* cp = app.add_subcommand("cp", "copy files and directories within the file system");
  cp->add_flag("-f", force, "overwrite existing files");
  cp->add_option("args", paths, "sources... destination")->required()->expected(2, -1);
  auto* getmerge =
      app.add_subcommand("getmerge", "concatenate the files of a directory into one local file");
  bool newline = false;
  getmerge->add_flag("--nl,-n", newline, "a newline after each file");
  getmerge->add_option("args", paths, "remote directory, local file")->required()->expected(2);
  auto* append = app.add_subcommand(
      "appendToFile", "append local files (- for stdin) to a file, creating it if needed");
  append->add_option("args", paths, "local sources... remote file")->required()->expected(2, -1);
  std::string spec;
  auto* chmod = app.add_subcommand("chmod", "change the mode of files and directories");
  chmod->add_flag("-R", recursive, "everything under each directory too");
  chmod->add_option("mode", spec, "octal (755) or symbolic (u+x,go-w)")->required();
  chmod->add_option("paths", paths)->required();
  auto* chown = app.add_subcommand("chown", "change the owner (and group) of paths");
  chown->add_flag("-R", recursive, "everything under each directory too");
  chown->add_option("owner", spec, "OWNER, OWNER:GROUP or :GROUP")->required();
  chown->add_option("paths", paths)->required();
  auto* chgrp = app.add_subcommand("chgrp", "change the group of paths");
  chgrp->add_flag("-R", recursive, "everything under each directory too");
  chgrp->add_option("group", spec)->required();
  chgrp->add_option("paths", paths)->required();
  auto* stat = app.add_subcommand("stat", "show a file's or directory's details");
  stat->add_option("paths", paths)->required();
  auto* du = app.add_subcommand("du", "space used by each entry of a directory");
  du->add_flag("-s", summary, "one total per path");
  du->add_flag("-H,--human", human, "sizes like 1.5M");
  du->add_option("paths", paths);
  auto* count = app.add_subcommand("count", "directories, files and bytes under each path");
  count->add_flag("-H,--human", human, "sizes like 1.5M");
  count->add_option("paths", paths)->required();
  auto* df = app.add_subcommand("df", "capacity and free space of the file system");
  df->add_flag("-H,--human", human, "sizes like 1.5T");
  auto* setrep = app.add_subcommand(
      "setrep", "change the replication factor of files (of every file under a directory)");
  setrep->add_flag("-w", wait, "wait until every block has that many replicas");
  setrep->add_option("replication", replication)->required()->check(CLI::Range(1, 32));
  setrep->add_option("paths", paths)->required();
  auto* touchz = app.add_subcommand("touchz", "create empty files");
  touchz->add_option("paths", paths)->required();
  auto* test = app.add_subcommand("test", "exit 0 if the path passes the test, else 1");
  bool te = false, td = false, tf = false;
  test->add_flag("-e", te, "exists");
  test->add_flag("-d", td, "is a directory");
  test->add_flag("-f", tf, "is a file");
  test->add_option("path", paths)->required()->expected(1);
  auto* fsck = app.add_subcommand("fsck", "check block health under a path; exit 1 if unhealthy");
  bool fsck_files = false, fsck_blocks = false, fsck_locations = false;
  fsck->add_flag("--files", fsck_files, "list every file");
  fsck->add_flag("--blocks", fsck_blocks, "list every file's blocks");
  fsck->add_flag("--locations", fsck_locations, "list where each block's replicas are");
  fsck->add_option("path", paths, "path (default /)");
  auto* admin = app.add_subcommand("admin", "cluster administration");
  admin->require_subcommand(1);
  auto* report = admin->add_subcommand("report", "capacity, block health and every datanode");
  auto* nn = admin->add_subcommand(
      "namenode", "the namenode group: status | add ID RAFT_HOST:PORT | remove ID | transfer ID");
  std::string action;
  std::vector<std::string> action_args;
  nn->add_option("action", action, "status, add, remove or transfer")->required();
  nn->add_option("args", action_args, "namenode id (and, for add, its Raft address)");
  auto* decommission = admin->add_subcommand(
      "decommission", "copy every replica off datanodes (uuid, host:port or host), then retire them");
  decommission->add_flag("-w", wait, "wait until they are decommissioned");
  decommission->add_option("datanodes", paths)->required();
  auto* recommission =
      admin->add_subcommand("recommission", "put decommissioned datanodes back in service");
  recommission->add_option("datanodes", paths)->required();
  auto* safemode = admin->add_subcommand(
      "safemode", "get | enter | leave | wait: no replication or deletion decisions while on");
  safemode->add_option("action", action, "get, enter, leave or wait")->required();

  CLI11_PARSE(app, argc, argv);

  auto conf = LoadClientConfig(conf_path);
  if (!conf.ok()) {
    fprintf(stderr, "dfs: %s\n", conf.status().message().c_str());
    return 2;
  }
  auto fs = FileSystem::Connect(*conf);
  if (!fs.ok()) {
    fprintf(stderr, "dfs: %s\n", fs.status().message().c_str());
    return 2;
  }
  g_fs = std::move(*fs);
  for (const auto& p : paths) {
    if (p.empty()) return Fail("''", "an empty path names nothing");
  }
  // Remote patterns (quoted, so the shell leaves them alone), as hdfs dfs takes them.
  int glob_rc = 0;
  auto expand = [&](size_t keep_last) {
    std::vector<std::string> out;
    for (size_t i = 0; i < paths.size(); ++i) {
      auto matches = i + keep_last >= paths.size() ? Result<std::vector<std::string>>({paths[i]})
                                                   : Glob(g_fs.get(), paths[i]);
      if (matches.ok()) {
        out.insert(out.end(), matches->begin(), matches->end());
      } else if (!(*rm && force && matches.status().code() == Code::kNotFound)) {
        glob_rc = Fail(paths[i], matches.status());
      }
    }
    paths = std::move(out);
  };
  if (*ls || *cat || *head || *tail || *rm || *rmdir || *stat || *du || *count || *setrep ||
      *chmod || *chown || *chgrp) {
    expand(0);
    if (paths.empty() && glob_rc != 0) return glob_rc;
  } else if (*get || *cp || *mv) {
    expand(1);
    if (paths.size() < 2) return glob_rc;
  }

  if (*ls) {
    rc = Ls(paths, recursive, human);
  } else if (*mkdir) {
    for (const auto& p : paths) {
      Status s = g_fs->Mkdirs(p, parents);
      if (!s.ok()) rc = Fail(p, s);
    }
  } else if (*put) {
    uint64_t bs = 0;
    if (!block_size.empty()) {
      auto parsed = ParseSize(block_size);
      if (!parsed.ok()) return Fail("--block-size", parsed.status());
      bs = *parsed;
    }
    CreateOptions o;
    o.replication = replication;
    o.block_size = bs;
    rc = Put(g_fs.get(), paths, o, force);
  } else if (*get) {
    rc = Get(g_fs.get(), paths, force);
  } else if (*cat) {
    rc = Cat(g_fs.get(), paths);
  } else if (*head) {
    rc = Head(g_fs.get(), paths[0]);
  } else if (*tail) {
    rc = Tail(g_fs.get(), paths[0]);
  } else if (*rm || *rmdir) {
    for (const auto& p : paths) {
      // rm takes a directory only with -r, rmdir only a directory (and an empty one).
      auto st = g_fs->GetFileStatus(p);
      Status s = st.status();
      bool dir = st.ok() && st->type() == proto::DIRECTORY;
      if (st.ok() && *rm && dir && !recursive) s = FailedPrecondition("is a directory: " + p);
      if (st.ok() && *rmdir && !dir) s = FailedPrecondition("not a directory: " + p);
      if (s.ok()) s = g_fs->Delete(p, *rm && recursive);
      if (!s.ok() && !(force && s.code() == Code::kNotFound)) rc = Fail(p, s);
    }
  } else if (*mv) {
    if (paths.size() < 2) return Fail("mv", InvalidArgument("need a source and a destination"));
    for (size_t i = 0; i + 1 < paths.size(); ++i) {
      Status s = g_fs->Rename(paths[i], paths.back());
      if (!s.ok()) rc = Fail(paths[i], s);
    }
  } else if (*cp) {
    rc = Cp(g_fs.get(), paths, force);
  } else if (*getmerge) {
    rc = GetMerge(g_fs.get(), paths[0], paths[1], newline);
  } else if (*append) {
    rc = AppendToFile(g_fs.get(), paths);
  } else if (*chmod) {
    rc = Chmod(g_fs.get(), spec, paths, recursive);
  } else if (*chown) {
    rc = Chown(g_fs.get(), spec, paths, recursive);
  } else if (*chgrp) {
    rc = Chown(g_fs.get(), ":" + spec, paths, recursive);
  } else if (*stat) {
    for (const auto& p : paths) rc |= Stat(p);
  } else if (*count) {
    rc = Count(paths, human);
  } else if (*du) {
    rc = Du(paths, summary, human);
  } else if (*df) {
    rc = Df(human);
  } else if (*setrep) {
    for (const auto& p : paths) rc |= Setrep(replication, p, wait);
  } else if (*touchz) {
    for (const auto& p : paths) {
      auto st = g_fs->GetFileStatus(p);
      if (st.ok() && st->length() > 0) {
        fprintf(stderr, "dfs: %s: Not a zero-length file\n", p.c_str());
        rc = 1;
        continue;
      }
      CreateOptions o;
      o.overwrite = true;
      auto out = g_fs->Create(p, o);
      Status s = out.ok() ? (*out)->Close() : out.status();
      if (!s.ok()) rc = Fail(p, s);
    }
  } else if (*test) {
    auto st = g_fs->GetFileStatus(paths[0]);
    if (!st.ok()) {
      if (st.status().code() != Code::kNotFound) return Fail(paths[0], st.status());
      return 1;
    }
    if (td) return st->type() == proto::DIRECTORY ? 0 : 1;
    if (tf) return st->type() == proto::FILE ? 0 : 1;
    return 0;
  } else if (*fsck) {
    rc = Fsck(paths.empty() ? "/" : paths[0], fsck_files, fsck_blocks, fsck_locations);
  } else if (*report) {
    rc = AdminReport();
  } else if (*nn) {
    rc = AdminNamenode(g_fs.get(), action, action_args);
  } else if (*decommission) {
    rc = AdminDecommission(g_fs.get(), paths, false, wait);
  } else if (*recommission) {
    rc = AdminDecommission(g_fs.get(), paths, true, false);
  } else if (*safemode) {
    rc = AdminSafemode(g_fs.get(), action);
  }
  rc |= glob_rc;
  // What cat, get - and the listings wrote must have reached stdout (a full disk, a
  // closed pipe).
  if (fflush(stdout) != 0 || ferror(stdout)) rc = Fail("stdout", ErrnoStatus("write", errno));
  return rc;
}
