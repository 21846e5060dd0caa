// The dfs command-line tool, run as a separate process against a real cluster.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <map>

#include "tests/cluster/mini_cluster.h"
#include "tests/cluster/test_util.h"
#include "tests/common/temp_dir.h"

namespace dfs {
namespace {

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MiniClusterOptions o;
    o.datanodes = 3;
    auto c = MiniCluster::Start(o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c);
  }
  int Dfs(const std::vector<std::string>& args, std::string* out = nullptr,
          const std::string& input = "") {
    return cluster_->Run("dfs", args, out, input);
  }
  std::unique_ptr<MiniCluster> cluster_;
};

TEST_F(CliTest, EveryCommandDoesWhatItSays) {
  std::string out;
  ASSERT_EQ(Dfs({"mkdir", "-p", "/a/b"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"put", "-", "/a/b/hello"}, &out, "hello world\n"), 0) << out;
  ASSERT_EQ(Dfs({"cat", "/a/b/hello"}, &out), 0);
  EXPECT_EQ(out, "hello world\n");
  ASSERT_EQ(Dfs({"ls", "/a/b"}, &out), 0);
  EXPECT_NE(out.find("/a/b/hello"), std::string::npos) << out;
  EXPECT_NE(out.find(" 12 "), std::string::npos) << out;
  ASSERT_EQ(Dfs({"cp", "/a/b/hello", "/a/copy"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"mv", "/a/copy", "/a/moved"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"test", "-f", "/a/moved"}), 0);
  ASSERT_EQ(Dfs({"test", "-e", "/a/copy"}), 1);
  ASSERT_EQ(Dfs({"test", "-d", "/a/b"}), 0);
  ASSERT_EQ(Dfs({"test", "-d", "/a/moved"}), 1);
  ASSERT_EQ(Dfs({"touchz", "/a/empty"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"stat", "/a/empty"}, &out), 0);
  EXPECT_NE(out.find("Size: 0"), std::string::npos) << out;
  ASSERT_EQ(Dfs({"du", "-s", "/a"}, &out), 0);
  EXPECT_NE(out.find("24"), std::string::npos) << out;  // 12 + 12 bytes
  ASSERT_EQ(Dfs({"setrep", "2", "/a/moved"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"stat", "/a/moved"}, &out), 0);
  EXPECT_NE(out.find("Replication: 2"), std::string::npos) << out;
  ASSERT_EQ(Dfs({"tail", "/a/moved"}, &out), 0);
  EXPECT_EQ(out, "hello world\n");
  ASSERT_EQ(Dfs({"head", "/a/moved"}, &out), 0);
  EXPECT_EQ(out, "hello world\n");
  ASSERT_EQ(Dfs({"count", "/a"}, &out), 0);
  EXPECT_EQ(out, "           2            3                 24 /a\n");  // /a, /a/b; 3 files
  ASSERT_EQ(Dfs({"df", "-H"}, &out), 0);
  EXPECT_NE(out.find("dfs://"), std::string::npos) << out;
  ASSERT_EQ(Dfs({"ls", "-R", "/"}, &out), 0);
  EXPECT_NE(out.find("/a/b/hello"), std::string::npos) << out;
  ASSERT_EQ(Dfs({"rm", "-r", "/a"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"test", "-e", "/a"}), 1);
  ASSERT_EQ(Dfs({"admin", "report"}, &out), 0);
  EXPECT_NE(out.find("Live datanodes: 3"), std::string::npos) << out;
}

TEST_F(CliTest, ErrorsNameThePathAndFail) {
  std::string out;
  EXPECT_EQ(Dfs({"cat", "/a/b"}, &out), 1);
  EXPECT_EQ(out, "dfs: /a/b: No such file or directory\n");
  ASSERT_EQ(Dfs({"mkdir", "/d"}), 0);
  EXPECT_EQ(Dfs({"mkdir", "/d"}, &out), 1);
  EXPECT_EQ(out, "dfs: /d: File exists\n");
  ASSERT_EQ(Dfs({"touchz", "/d/f"}), 0);
  EXPECT_EQ(Dfs({"rm", "/d"}, &out), 1);
  EXPECT_EQ(out, "dfs: /d: Is a directory\n");
  EXPECT_EQ(Dfs({"rmdir", "/d"}, &out), 1);
  EXPECT_EQ(out, "dfs: /d: Directory not empty\n");
  EXPECT_EQ(Dfs({"rmdir", "/d/f"}, &out), 1);
  EXPECT_EQ(out, "dfs: /d/f: Not a directory\n");
  ASSERT_EQ(Dfs({"mkdir", "/d/empty"}), 0);
  EXPECT_EQ(Dfs({"rm", "/d/empty"}, &out), 1);
  EXPECT_EQ(out, "dfs: /d/empty: Is a directory\n");
  ASSERT_EQ(Dfs({"rmdir", "/d/empty"}, &out), 0) << out;
  EXPECT_EQ(Dfs({"test", "-e", "/d/empty"}), 1);
  EXPECT_EQ(Dfs({"test", "-e", "/d/f"}), 0);
  EXPECT_EQ(Dfs({"rm", "-f", "/missing"}), 0);
  EXPECT_NE(Dfs({"bogus"}, &out), 0);
}

// Every file under a local directory, by path relative to it, with its content ("/" marks a
// directory).
std::map<std::string, std::string> LocalTree(const std::string& root) {
  std::map<std::string, std::string> tree;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    std::string rel = std::filesystem::relative(e.path(), root).string();
    tree[rel] = e.is_directory() ? "/" : ReadWholeFile(e.path());
  }
  return tree;
}

TEST_F(CliTest, DirectoriesArePutGotAndCopiedWhole) {
  TempDir tmp;
  const std::string src = tmp.Join("photos");
  std::filesystem::create_directories(src + "/2026/summer");
  std::filesystem::create_directories(src + "/empty");
  WriteWholeFile(src + "/index.txt", "three pictures\n");
  WriteWholeFile(src + "/2026/nothing", "");
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
  WriteWholeFile(src + "/2026/summer/beach.raw", big);
  const auto want = LocalTree(src);
  ASSERT_EQ(want.size(), 6u);

  std::string out;
  ASSERT_EQ(Dfs({"mkdir", "/backup"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"put", src, "/backup"}, &out), 0) << out;  // into it: /backup/photos
  ASSERT_EQ(Dfs({"get", "/backup/photos", tmp.Join("back")}, &out), 0) << out;
  EXPECT_EQ(LocalTree(tmp.Join("back")), want);
  ASSERT_EQ(Dfs({"cp", "/backup/photos", "/copy"}, &out), 0) << out;  // a new name
  ASSERT_EQ(Dfs({"get", "/copy", tmp.Join("copy")}, &out), 0) << out;
  EXPECT_EQ(LocalTree(tmp.Join("copy")), want);

  // setrep on a directory sets every file under it.
  ASSERT_EQ(Dfs({"setrep", "2", "/copy"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"stat", "/copy/2026/summer/beach.raw"}, &out), 0);
  EXPECT_NE(out.find("Replication: 2"), std::string::npos) << out;

  // Several sources need a directory to go into.
  ASSERT_EQ(Dfs({"get", "/copy/index.txt", "/copy/2026", tmp.path()}, &out), 0) << out;
  EXPECT_EQ(ReadWholeFile(tmp.Join("index.txt")), "three pictures\n");
  EXPECT_EQ(ReadWholeFile(tmp.Join("2026/summer/beach.raw")), big);
  EXPECT_EQ(Dfs({"cp", "/copy/index.txt", "/copy/2026", "/nowhere"}, &out), 1);
  EXPECT_EQ(out, "dfs: /nowhere: No such file or directory\n");
  EXPECT_EQ(Dfs({"test", "-e", "/nowhere"}), 1);

  // Existing files stay unless -f; the copy goes on past them.
  WriteWholeFile(src + "/index.txt", "four pictures\n");
  WriteWholeFile(src + "/new.txt", "new\n");
  EXPECT_EQ(Dfs({"put", src, "/backup"}, &out), 1);
  EXPECT_NE(out.find("dfs: /backup/photos/index.txt: File exists"), std::string::npos) << out;
  ASSERT_EQ(Dfs({"cat", "/backup/photos/index.txt", "/backup/photos/new.txt"}, &out), 0);
  EXPECT_EQ(out, "three pictures\nnew\n");
  ASSERT_EQ(Dfs({"put", "-f", src, "/backup"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"cat", "/backup/photos/index.txt"}, &out), 0);
  EXPECT_EQ(out, "four pictures\n");

  // Refused, and nothing changes.
  EXPECT_EQ(Dfs({"cp", "/copy", "/copy/2026"}, &out), 1);
  EXPECT_EQ(out, "dfs: /copy: cannot copy a directory into itself (/copy/2026/copy)\n");
  EXPECT_EQ(Dfs({"test", "-e", "/copy/2026/copy"}), 1);
  EXPECT_EQ(Dfs({"cp", "-f", "/copy/index.txt", "/copy"}, &out), 1);
  EXPECT_EQ(out, "dfs: /copy/index.txt: source and destination are the same file\n");
  ASSERT_EQ(Dfs({"cat", "/copy/index.txt"}, &out), 0);
  EXPECT_EQ(out, "three pictures\n");
  EXPECT_EQ(Dfs({"get", "/copy", "-"}, &out), 1);
  EXPECT_EQ(out, "dfs: /copy: Is a directory\n");
  EXPECT_EQ(Dfs({"put", src, "/nowhere/photos"}, &out), 1);  // no parent
  EXPECT_EQ(Dfs({"put", src + "/index.txt", "/nowhere/"}, &out), 1);
  EXPECT_EQ(out, "dfs: /nowhere/: No such file or directory\n");
  EXPECT_EQ(Dfs({"test", "-e", "/nowhere"}), 1);
  EXPECT_EQ(Dfs({"put", "-", "/copy"}, &out, "data"), 1);
  EXPECT_EQ(out, "dfs: /copy: Is a directory (stdin needs a file name)\n");

  // A local file is replaced only with -f.
  WriteWholeFile(tmp.Join("mine.txt"), "local\n");
  EXPECT_EQ(Dfs({"get", "/copy/index.txt", tmp.Join("mine.txt")}, &out), 1);
  EXPECT_EQ(out, "dfs: " + tmp.Join("mine.txt") + ": File exists\n");
  EXPECT_EQ(ReadWholeFile(tmp.Join("mine.txt")), "local\n");
  ASSERT_EQ(Dfs({"get", "-f", "/copy/index.txt", tmp.Join("mine.txt")}, &out), 0) << out;
  EXPECT_EQ(ReadWholeFile(tmp.Join("mine.txt")), "three pictures\n");
  // A symbolic link is written through, a device written into; neither is replaced.
  std::filesystem::create_symlink("mine.txt", tmp.Join("link"));
  ASSERT_EQ(Dfs({"get", "-f", "/copy/2026/nothing", tmp.Join("link")}, &out), 0) << out;
  EXPECT_TRUE(std::filesystem::is_symlink(tmp.Join("link")));
  EXPECT_EQ(ReadWholeFile(tmp.Join("mine.txt")), "");
  if (::mknod(tmp.Join("null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0) {  // as root
    ASSERT_EQ(Dfs({"get", "/copy/index.txt", tmp.Join("null")}, &out), 0) << out;
    EXPECT_TRUE(std::filesystem::is_character_file(tmp.Join("null")));
  }

  // Names of 255 bytes, the most there may be, though NAME._COPYING_ is longer.
  const std::string longest(255, 'n');
  WriteWholeFile(tmp.Join(longest), "long\n");
  ASSERT_EQ(Dfs({"put", tmp.Join(longest), "/copy"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"cp", "/copy/" + longest, "/backup"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"get", "/backup/" + longest, tmp.Join("back")}, &out), 0) << out;
  EXPECT_EQ(ReadWholeFile(tmp.Join("back/" + longest)), "long\n");

  // An empty path names nothing (it is not the root).
  EXPECT_EQ(Dfs({"chmod", "700", ""}, &out), 1);
  EXPECT_EQ(out, "dfs: '': an empty path names nothing\n");
  EXPECT_EQ(Dfs({"get", "", tmp.Join("root")}, &out), 1);
  EXPECT_FALSE(std::filesystem::exists(tmp.Join("root")));
}

// A put killed halfway leaves the file it was replacing as it was, and only a
// NAME._COPYING_ behind, which the next put replaces once the killed writer's lease ends.
TEST(CliPutTest, AnInterruptedPutLosesNothing) {
  MiniClusterOptions o;
  o.datanodes = 3;
  o.lease_limit_ms = 1500;
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  MiniCluster& cluster = **c;
  TempDir tmp;
  const std::string big = TestData(7, 40 << 20);
  WriteWholeFile(tmp.Join("big"), big);
  std::string out;
  ASSERT_EQ(cluster.Run("dfs", {"put", "-", "/x"}, &out, "old\n"), 0) << out;
  auto fs = cluster.Connect();
  pid_t pid = cluster.StartProcess(
      "dfs", {"--conf", cluster.client_conf_path(), "put", "-f", tmp.Join("big"), "/x"},
      "put.log");
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WaitFor([&] {
    auto st = fs->GetFileStatus("/x._COPYING_");
    return st.ok() && st->length() > 0;  // a block or more written
  }));
  MiniCluster::StopProcess(&pid, false);
  auto old = ReadFile(fs.get(), "/x");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(*old, "old\n");
  // At once, the killed put's file is still open; the message says so.
  const std::vector<std::string> put = {"put", "-f", tmp.Join("big"), "/x"};
  if (cluster.Run("dfs", put, &out) != 0) {
    EXPECT_EQ(out,
              "dfs: /x: an earlier copy to /x did not finish and /x._COPYING_ is still open; it "
              "can be replaced once the namenode ends its writer's lease (a minute by "
              "default)\n");
    ASSERT_TRUE(WaitFor([&] { return cluster.Run("dfs", put, &out) == 0; }, 20'000)) << out;
  }
  auto now = ReadFile(fs.get(), "/x");
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  EXPECT_TRUE(*now == big);
  ASSERT_EQ(cluster.Run("dfs", {"ls", "/"}, &out), 0);
  EXPECT_EQ(out.find("_COPYING_"), std::string::npos) << out;
}

TEST_F(CliTest, ModesOwnersMergesAndAppends) {
  std::string out;
  ASSERT_EQ(Dfs({"mkdir", "-p", "/job/out/_logs"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"put", "-", "/job/out/part-00001"}, &out, "b 2\n"), 0) << out;
  ASSERT_EQ(Dfs({"put", "-", "/job/out/part-00000"}, &out, "a 1\n"), 0) << out;
  ASSERT_EQ(Dfs({"put", "-", "/job/out/_logs/log"}, &out, "not data\n"), 0) << out;

  ASSERT_EQ(Dfs({"chmod", "-R", "go-rx", "/job"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"stat", "/job/out/_logs/log"}, &out), 0);
  EXPECT_NE(out.find("Permission: -rw------- (0600)"), std::string::npos) << out;
  ASSERT_EQ(Dfs({"chmod", "1777", "/job"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"ls", "/"}, &out), 0);
  EXPECT_NE(out.find("drwxrwxrwt"), std::string::npos) << out;
  ASSERT_EQ(Dfs({"chown", "-R", "alice:analysts", "/job/out"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"chgrp", "web", "/job/out/part-00000"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"ls", "/job/out"}, &out), 0);
  EXPECT_NE(out.find("alice    web"), std::string::npos) << out;
  EXPECT_NE(out.find("alice    analysts"), std::string::npos) << out;
  // Malformed: refused, and nothing changes.
  EXPECT_EQ(Dfs({"chmod", "u+q", "/job"}, &out), 1);
  EXPECT_EQ(out, "dfs: u+q: invalid mode 'u+q' (octal like 755, or like u+x,go-w)\n");
  EXPECT_EQ(Dfs({"chown", "a:b:c", "/job/out"}, &out), 1);
  EXPECT_EQ(out, "dfs: a:b:c: give OWNER, OWNER:GROUP or :GROUP\n");
  ASSERT_EQ(Dfs({"stat", "/job"}, &out), 0);
  EXPECT_NE(out.find("(1777)"), std::string::npos) << out;
  ASSERT_EQ(Dfs({"stat", "/job/out"}, &out), 0);
  EXPECT_NE(out.find("Owner: alice\n  Group: analysts"), std::string::npos) << out;

  TempDir tmp;
  ASSERT_EQ(Dfs({"getmerge", "/job/out", tmp.Join("merged")}, &out), 0) << out;
  EXPECT_EQ(ReadWholeFile(tmp.Join("merged")), "a 1\nb 2\n");  // name order, no subdirs
  ASSERT_EQ(Dfs({"getmerge", "-nl", "/job/out", tmp.Join("merged")}, &out), 0) << out;
  EXPECT_EQ(ReadWholeFile(tmp.Join("merged")), "a 1\n\nb 2\n\n");

  WriteWholeFile(tmp.Join("one"), "one\n");
  ASSERT_EQ(Dfs({"appendToFile", tmp.Join("one"), "-", "/log"}, &out, "two\n"), 0) << out;
  ASSERT_EQ(Dfs({"appendToFile", tmp.Join("one"), "/log"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"cat", "/log"}, &out), 0);
  EXPECT_EQ(out, "one\ntwo\none\n");
  EXPECT_EQ(Dfs({"appendToFile", tmp.Join("one"), tmp.Join("missing"), "/log"}, &out), 1);
  EXPECT_EQ(out, "dfs: " + tmp.Join("missing") + ": No such file or directory\n");
  ASSERT_EQ(Dfs({"cat", "/log"}, &out), 0);
  EXPECT_EQ(out, "one\ntwo\none\n");  // nothing appended
  EXPECT_EQ(Dfs({"appendToFile", tmp.Join("one"), tmp.path(), "/log"}, &out), 1);
  EXPECT_EQ(out, "dfs: " + tmp.path() + ": Is a directory\n");
  ASSERT_EQ(Dfs({"cat", "/log"}, &out), 0);
  EXPECT_EQ(out, "one\ntwo\none\n");

  std::string big(3000, 'x');
  big[1023] = 'y';
  big[1024] = 'z';
  ASSERT_EQ(Dfs({"put", "-", "/big"}, &out, big), 0) << out;
  ASSERT_EQ(Dfs({"head", "/big"}, &out), 0);
  EXPECT_EQ(out, big.substr(0, 1024));
  ASSERT_EQ(Dfs({"tail", "/big"}, &out), 0);
  EXPECT_EQ(out, big.substr(3000 - 1024));
}

TEST_F(CliTest, QuotedPatternsMatchRemotePaths) {
  std::string out;
  ASSERT_EQ(Dfs({"mkdir", "-p", "/logs/2025", "/logs/2026", "/logs/old"}, &out), 0) << out;
  for (const char* f : {"/logs/2025/a.log", "/logs/2026/b.log", "/logs/2026/c.txt",
                        "/logs/old/d.log"}) {
    ASSERT_EQ(Dfs({"put", "-", f}, &out, std::string(f) + "\n"), 0) << out;
  }
  ASSERT_EQ(Dfs({"cat", "/logs/202?/*.log"}, &out), 0) << out;
  EXPECT_EQ(out, "/logs/2025/a.log\n/logs/2026/b.log\n");
  ASSERT_EQ(Dfs({"cat", "/logs/{old,2026}/[bd].*"}, &out), 0) << out;
  EXPECT_EQ(out, "/logs/old/d.log\n/logs/2026/b.log\n");
  ASSERT_EQ(Dfs({"cp", "/logs/*/*.log", "/logs/old"}, &out), 1);  // d.log onto itself
  ASSERT_EQ(Dfs({"ls", "/logs/old"}, &out), 0);
  EXPECT_NE(out.find("Found 3 items"), std::string::npos) << out;
  EXPECT_EQ(Dfs({"cat", "/logs/2026/c.txt/*"}, &out), 1);  // nothing is under a file
  EXPECT_EQ(out, "dfs: /logs/2026/c.txt/*: No such file or directory\n");
  EXPECT_EQ(Dfs({"cat", "/logs/*.gz"}, &out), 1);
  EXPECT_EQ(out, "dfs: /logs/*.gz: No such file or directory\n");
  EXPECT_EQ(Dfs({"rm", "-f", "/logs/*.gz"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"rm", "/logs/*/*.log"}, &out), 0) << out;
  ASSERT_EQ(Dfs({"ls", "-R", "/logs"}, &out), 0);
  EXPECT_EQ(out.find(".log"), std::string::npos) << out;
  EXPECT_NE(out.find("/logs/2026/c.txt"), std::string::npos) << out;
}

TEST_F(CliTest, EveryCommandHasHelp) {
  for (const char* cmd : {"ls", "mkdir", "put", "get", "cat", "tail", "rm", "mv", "cp", "stat",
                          "du", "df", "setrep", "touchz", "test", "fsck", "admin", "getmerge",
                          "appendToFile", "chmod", "chown", "chgrp", "head", "count", "rmdir"}) {
    std::string out;
    EXPECT_EQ(Dfs({cmd, "--help"}, &out), 0) << cmd;
    EXPECT_NE(out.find("Usage"), std::string::npos) << cmd << ": " << out;
  }
}

}  // namespace
}  // namespace dfs

namespace dfs {
namespace {

TEST(FsckTest, HealthyUntilTheOnlyReplicaIsLost) {
  MiniClusterOptions o;
  o.datanodes = 3;
  o.dead_interval_ms = 2000;
  o.heartbeat_interval_ms = 300;
  auto c = MiniCluster::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::string out;
  ASSERT_EQ((*c)->Run("dfs", {"put", "-r", "1", "-", "/lonely"}, &out, "only one copy\n"), 0)
      << out;
  ASSERT_EQ((*c)->Run("dfs", {"put", "-", "/safe"}, &out, "three copies\n"), 0) << out;
  auto fs = (*c)->Connect();
  ASSERT_TRUE(WaitFor([&] { return (*c)->Run("dfs", {"fsck", "/"}, &out) == 0; })) << out;
  EXPECT_NE(out.find("is HEALTHY"), std::string::npos) << out;
  ASSERT_EQ((*c)->Run("dfs", {"fsck", "/lonely", "-files", "-blocks", "-locations"}, &out), 0);
  EXPECT_NE(out.find("/lonely 14 bytes, replication 1, 1 block(s): OK"), std::string::npos)
      << out;
  EXPECT_NE(out.find("live_repl=1"), std::string::npos) << out;

  // Stop the datanode holding /lonely's only replica.
  auto locs = Locations(fs.get(), "/lonely");
  ASSERT_TRUE(locs.ok());
  ASSERT_EQ(locs->blocks(0).locations_size(), 1);
  for (int i = 0; i < (*c)->datanode_count(); ++i) {
    if ((*c)->datanode_port(i) == locs->blocks(0).locations(0).data_port()) (*c)->StopDatanode(i);
  }
  ASSERT_TRUE(WaitFor([&] { return (*c)->Run("dfs", {"fsck", "/"}, &out) == 1; }, 15'000))
      << out;
  EXPECT_NE(out.find("Missing blocks: 1"), std::string::npos) << out;
  EXPECT_NE(out.find("/lonely 14 bytes, replication 1, 1 block(s): MISSING BLOCKS"),
            std::string::npos)
      << out;
  // Two of three replicas left, and no third datanode to heal onto: degraded, not lost.
  EXPECT_NE(out.find("/safe 13 bytes, replication 3, 1 block(s): Under replicated"),
            std::string::npos)
      << out;
  EXPECT_EQ((*c)->Run("dfs", {"fsck", "/nope"}, &out), 1);
  EXPECT_EQ(out, "dfs: /nope: No such file or directory\n");
}

}  // namespace
}  // namespace dfs
