// dfs-fuse: a real mount of a real cluster, used by ordinary tools.
#include <sys/stat.h>
#include <fcntl.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "tests/cluster/mini_cluster.h"
#include "tests/cluster/test_util.h"

namespace dfs {
namespace {

constexpr long kFuseSuperMagic = 0x65735546;

// A dfs-fuse mount of the cluster at dir()/mnt<n> (or dir()/name), unmounted when
// destroyed.
class FuseMount {
 public:
  FuseMount(MiniCluster* c, int n, const std::string& name = "") : cluster_(c) {
    path_ = c->dir() + "/" + (name.empty() ? "mnt" + std::to_string(n) : name);
    std::filesystem::create_directories(path_);
    pid_ = c->StartProcess("dfs-fuse",
                           {"-f", "-o", "conf=" + c->client_conf_path(), "-o", "allow_other",
                            path_},
                           "fuse" + std::to_string(n) + ".log");
    mounted_ = WaitFor([&] {
      struct statfs s;
      return statfs(path_.c_str(), &s) == 0 && s.f_type == kFuseSuperMagic;
    });
  }
  ~FuseMount() {
    if (mounted_) Sh("fusermount3 -u '" + path_ + "'");
    MiniCluster::StopProcess(&pid_, true);
  }
  bool mounted() const { return mounted_; }
  const std::string& path() const { return path_; }

  // Runs a shell command; returns its exit status, output in *out.
  static int Sh(const std::string& cmd, std::string* out = nullptr) {
    FILE* p = popen((cmd + " 2>&1").c_str(), "r");
    std::string o;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) o.append(buf, n);
    int st = pclose(p);
    if (out) *out = o;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }

 private:
  MiniCluster* cluster_;
  std::string path_;
  pid_t pid_ = -1;
  bool mounted_ = false;
};

class FuseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MiniClusterOptions o;
    o.namenodes = 3;  // a namenode group, as people run it
    o.heartbeat_interval_ms = 500;
    auto c = MiniCluster::Start(o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c);
    // Other users (the permission test runs as nobody) must reach the mount point.
    chmod(cluster_->dir().c_str(), 0755);
    mount_ = std::make_unique<FuseMount>(cluster_.get(), 0);
    ASSERT_TRUE(mount_->mounted()) << "mount failed; see " << cluster_->dir() << "/logs";
    mnt_ = mount_->path();
    local_ = cluster_->dir() + "/local";
    std::filesystem::create_directories(local_);
  }
  void TearDown() override { mount_.reset(); }

  int Sh(const std::string& cmd, std::string* out = nullptr) { return FuseMount::Sh(cmd, out); }

  // A tree of files of mixed sizes (0 B to 9 MiB, across block boundaries) under dir.
  void MakeTree(const std::string& dir) {
    std::filesystem::create_directories(dir + "/sub/deeper");
    const size_t sizes[] = {0, 1, 511, 512, 4096, 100'000, (4u << 20) + 3, 9u << 20};
    for (int i = 0; i < static_cast<int>(std::size(sizes)); ++i) {
      std::string where = i % 3 == 0 ? dir : i % 3 == 1 ? dir + "/sub" : dir + "/sub/deeper";
      std::ofstream(where + "/f" + std::to_string(i), std::ios::binary)
          << TestData(i + 1, sizes[i]);
    }
  }

  std::unique_ptr<MiniCluster> cluster_;
  std::unique_ptr<FuseMount> mount_;
  std::string mnt_, local_;
};

TEST_F(FuseTest, CopyTreeInAndOutComesBackIdentical) {
  MakeTree(local_ + "/tree");
  std::string out;
  ASSERT_EQ(Sh("cp -r " + local_ + "/tree " + mnt_ + "/tree", &out), 0) << out;
  ASSERT_EQ(Sh("diff -r " + local_ + "/tree " + mnt_ + "/tree", &out), 0) << out;
  ASSERT_EQ(Sh("cp -r " + mnt_ + "/tree " + local_ + "/back", &out), 0) << out;
  ASSERT_EQ(Sh("diff -r " + local_ + "/tree " + local_ + "/back", &out), 0) << out;
  // The same bytes through the dfs tool.
  auto fs = cluster_->Connect();
  auto st = fs->GetFileStatus("/tree/sub/deeper/f5");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
}

TEST_F(FuseTest, TarAndRsyncIntoTheMount) {
  MakeTree(local_ + "/tree");
  std::string out;
  ASSERT_EQ(Sh("tar cf " + local_ + "/t.tar -C " + local_ + " tree", &out), 0) << out;
  ASSERT_EQ(Sh("mkdir " + mnt_ + "/x && tar xf " + local_ + "/t.tar -C " + mnt_ + "/x", &out), 0)
      << out;
  ASSERT_EQ(Sh("diff -r " + local_ + "/tree " + mnt_ + "/x/tree", &out), 0) << out;
  ASSERT_EQ(Sh("rsync -a " + local_ + "/tree/ " + mnt_ + "/r/", &out), 0) << out;
  ASSERT_EQ(Sh("diff -r " + local_ + "/tree " + mnt_ + "/r", &out), 0) << out;
}

TEST_F(FuseTest, EverydayCommandsWork) {
  std::string out;
  ASSERT_EQ(Sh("mkdir -p " + mnt_ + "/a/b && echo hello > " + mnt_ + "/a/b/f", &out), 0) << out;
  ASSERT_EQ(Sh("ls -l " + mnt_ + "/a/b", &out), 0) << out;
  EXPECT_NE(out.find("-rw-r--r-- 1 root root 6"), std::string::npos) << out;
  ASSERT_EQ(Sh("stat -c '%s %a %F' " + mnt_ + "/a/b/f", &out), 0);
  EXPECT_EQ(out, "6 644 regular file\n");
  ASSERT_EQ(Sh("echo more >> " + mnt_ + "/a/b/f && cat " + mnt_ + "/a/b/f", &out), 0) << out;
  EXPECT_EQ(out, "hello\nmore\n");
  ASSERT_EQ(Sh("echo new > " + mnt_ + "/a/b/f && cat " + mnt_ + "/a/b/f", &out), 0) << out;
  EXPECT_EQ(out, "new\n");
  ASSERT_EQ(Sh("mv " + mnt_ + "/a/b/f " + mnt_ + "/a/g && ls " + mnt_ + "/a", &out), 0) << out;
  EXPECT_EQ(out, "b\ng\n");
  ASSERT_EQ(Sh("chmod 600 " + mnt_ + "/a/g && stat -c %a " + mnt_ + "/a/g", &out), 0) << out;
  EXPECT_EQ(out, "600\n");
  ASSERT_EQ(Sh("touch -d 2020-01-02 " + mnt_ + "/a/g && stat -c %y " + mnt_ + "/a/g", &out), 0);
  EXPECT_EQ(out.substr(0, 10), "2020-01-02");
  ASSERT_EQ(Sh("df " + mnt_, &out), 0) << out;
  EXPECT_NE(out.find("dfs"), std::string::npos) << out;
  EXPECT_NE(Sh("rmdir " + mnt_ + "/a", &out), 0);
  EXPECT_NE(out.find("Directory not empty"), std::string::npos) << out;
  ASSERT_EQ(Sh("rm -rf " + mnt_ + "/a && ls -A " + mnt_, &out), 0) << out;
  EXPECT_EQ(out, "");
}

TEST_F(FuseTest, OneGibibyteDdInAndOutKeepsItsSha256) {
  std::string out, in_sum, out_sum;
  ASSERT_EQ(Sh("head -c 1G /dev/urandom > " + local_ + "/big && sha256sum < " + local_ + "/big",
               &in_sum),
            0);
  ASSERT_EQ(Sh("dd if=" + local_ + "/big of=" + mnt_ + "/big bs=1M", &out), 0) << out;
  ASSERT_EQ(Sh("dd if=" + mnt_ + "/big bs=1M 2>/dev/null | sha256sum", &out_sum), 0);
  EXPECT_EQ(out_sum, in_sum);
}

TEST_F(FuseTest, ConcurrentReadersOfOneFileSeeTheSameBytes) {
  std::ofstream(local_ + "/f", std::ios::binary) << TestData(3, 20 << 20);
  ASSERT_EQ(Sh("cp " + local_ + "/f " + mnt_ + "/f"), 0);
  std::vector<std::thread> readers;
  std::atomic<int> good{0};
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      if (Sh("cmp " + local_ + "/f " + mnt_ + "/f") == 0) ++good;
    });
  }
  for (auto& t : readers) t.join();
  EXPECT_EQ(good.load(), 4);
}

// Reads that do not follow each other: the mount answers them by positional reads or
// from the chunks it read ahead, and every byte must still be the file's (chunks are
// 1 MiB, blocks 4 MiB, so reads here cross both).
TEST_F(FuseTest, RandomBackwardAndConcurrentReadsSeeTheFilesBytes) {
  const size_t size = (13 << 20) + 12345;
  std::string data = TestData(11, size);
  std::ofstream(local_ + "/f", std::ios::binary) << data;
  ASSERT_EQ(Sh("cp " + local_ + "/f " + mnt_ + "/f"), 0);
  int fd = open((mnt_ + "/f").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  auto check = [&](uint64_t off, size_t n) {
    std::string buf(n, '\0');
    ssize_t got = pread(fd, buf.data(), n, static_cast<off_t>(off));
    size_t want = off >= size ? 0 : std::min<size_t>(n, size - off);
    if (got != static_cast<ssize_t>(want)) return false;
    return buf.compare(0, want, data, std::min<size_t>(off, size), want) == 0;
  };
  // Backwards through the file in 300 KiB steps (O_DIRECT is not needed: every offset is
  // new to the page cache).
  for (int64_t off = static_cast<int64_t>(size) - 300'000; off > 0; off -= 700'000) {
    ASSERT_TRUE(check(static_cast<uint64_t>(off), 300'000)) << "at " << off;
  }
  // Jumps, then reading on from each.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20; ++i) {
    uint64_t off = rng() % size;
    ASSERT_TRUE(check(off, 200'000)) << "at " << off;
    ASSERT_TRUE(check(off + 200'000, 1 << 20)) << "at " << off + 200'000;
  }
  ASSERT_TRUE(check(size - 10, 100));  // over the end
  ASSERT_TRUE(check(size + 10, 100));  // past it
  close(fd);
  // Four threads reading one descriptor, each its own part, against a fresh page cache.
  ASSERT_EQ(Sh("echo 1 > /proc/sys/vm/drop_caches"), 0);
  fd = open((mnt_ + "/f").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0) << strerror(errno);
  std::atomic<int> good{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      bool ok = true;
      for (uint64_t off = t * 131072; off < size && ok; off += 4 * 131072) {
        ok = check(off, 131072);
      }
      if (ok) ++good;
    });
  }
  for (auto& r : readers) r.join();
  close(fd);
  EXPECT_EQ(good.load(), 4);
}

// Without -f the mount becomes a daemon: the command returns once the mount is up, and
// the daemon exits when it is unmounted.
TEST_F(FuseTest, DaemonMountsThenExitsWhenUnmounted) {
  std::string mnt = cluster_->dir() + "/daemon-mnt";
  std::filesystem::create_directories(mnt);
  std::string out;
  ASSERT_EQ(Sh(BinDir() + "/dfs-fuse -o conf=" + cluster_->client_conf_path() + " " +
                   mnt,
               &out),
            0)
      << out;
  struct statfs sfs;
  ASSERT_EQ(statfs(mnt.c_str(), &sfs), 0);
  ASSERT_EQ(sfs.f_type, kFuseSuperMagic);
  ASSERT_EQ(Sh("echo hi > " + mnt + "/x && cat " + mnt + "/x", &out), 0) << out;
  EXPECT_EQ(out, "hi\n");
  // The daemon is the process whose command line ends with this (unique) mount point.
  pid_t daemon = -1;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::ifstream f(e.path() / "cmdline");
    std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (cmd.find("dfs-fuse") != std::string::npos &&
        cmd.size() > mnt.size() && cmd.compare(cmd.size() - mnt.size() - 1, mnt.size(), mnt) == 0) {
      daemon = std::stoi(e.path().filename().string());
    }
  }
  ASSERT_GT(daemon, 0);
  ASSERT_EQ(Sh("fusermount3 -u " + mnt, &out), 0) << out;
  // Gone, or a zombie waiting for whoever adopted it.
  EXPECT_TRUE(WaitFor([&] {
    std::ifstream f("/proc/" + std::to_string(daemon) + "/stat");
    std::string pid, comm, state;
    return !(f >> pid >> comm >> state) || state == "Z";
  }));
  // A namenode nobody answers at: an error, and no mount.
  std::ofstream(local_ + "/nowhere.conf") << "namenodes = 127.0.0.1:1\nfailover_timeout_ms = 1000\n";
  EXPECT_NE(Sh("timeout 60 " + BinDir() + "/dfs-fuse -o conf=" + local_ + "/nowhere.conf " + mnt,
               &out),
            0);
  EXPECT_NE(out.find("cannot reach the namenode"), std::string::npos) << out;
  ASSERT_EQ(statfs(mnt.c_str(), &sfs), 0);
  EXPECT_NE(sfs.f_type, kFuseSuperMagic);
}

// The kernel's readahead window for the mount, from its bdi in sysfs (-1 if not found).
int ReadAheadKb(const std::string& mountpoint) {
  std::string escaped;  // as /proc/self/mountinfo writes it
  for (char ch : mountpoint) escaped += ch == ' ' ? std::string("\\040") : std::string(1, ch);
  std::ifstream in("/proc/self/mountinfo");
  std::string line, device;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point;
    if (f >> id >> parent >> dev >> root >> point && point == escaped) device = dev;
  }
  int kb = -1;
  std::ifstream("/sys/class/bdi/" + device + "/read_ahead_kb") >> kb;
  return kb;
}

TEST_F(FuseTest, MountReadsAheadInMegabyteWindows) {
  FuseMount spaced(cluster_.get(), 1, "mnt with a space");
  ASSERT_TRUE(spaced.mounted());
  EXPECT_EQ(ReadAheadKb(mnt_), 1024);
  EXPECT_EQ(ReadAheadKb(spaced.path()), 1024);
  ASSERT_OK(WriteFile(cluster_->Connect().get(), "/seen", "through a mount point with a space"));
  std::string got;
  EXPECT_EQ(Sh("cat '" + spaced.path() + "/seen'", &got), 0) << got;
  EXPECT_EQ(got, "through a mount point with a space");
}

TEST_F(FuseTest, TwoMountsSeeEachOthersClosedFiles) {
  FuseMount other(cluster_.get(), 1);
  ASSERT_TRUE(other.mounted());
  std::string out;
  ASSERT_EQ(Sh("echo from-one > " + mnt_ + "/shared"), 0);
  ASSERT_TRUE(WaitFor([&] { return Sh("cat " + other.path() + "/shared", &out) == 0 &&
                                   out == "from-one\n"; }, 5000))
      << out;
  ASSERT_EQ(Sh("echo from-two > " + other.path() + "/back"), 0);
  ASSERT_TRUE(WaitFor([&] { return Sh("cat " + mnt_ + "/back", &out) == 0 && out == "from-two\n"; },
                      5000))
      << out;
}

TEST_F(FuseTest, RandomWriteIntoExistingDataFailsWithEopnotsupp) {
  std::string out;
  ASSERT_EQ(Sh("head -c 100000 /dev/urandom > " + mnt_ + "/f"), 0);
  EXPECT_NE(Sh("dd if=/dev/zero of=" + mnt_ + "/f bs=1 count=1 seek=5 conv=notrunc", &out), 0);
  EXPECT_NE(out.find("Operation not supported"), std::string::npos) << out;
  ASSERT_EQ(Sh("stat -c %s " + mnt_ + "/f", &out), 0);
  EXPECT_EQ(out, "100000\n");
}

TEST_F(FuseTest, PermissionErrorsAreEacces) {
  std::string out;
  ASSERT_EQ(Sh("mkdir " + mnt_ + "/private && chmod 700 " + mnt_ + "/private"), 0);
  ASSERT_EQ(Sh("mkdir " + mnt_ + "/readonly && chmod 755 " + mnt_ + "/readonly"), 0);
  const std::string as_nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  EXPECT_NE(Sh(as_nobody + "ls " + mnt_ + "/private", &out), 0);
  EXPECT_NE(out.find("Permission denied"), std::string::npos) << out;
  EXPECT_NE(Sh(as_nobody + "touch " + mnt_ + "/readonly/x", &out), 0);
  EXPECT_NE(out.find("Permission denied"), std::string::npos) << out;
  ASSERT_EQ(Sh("chmod 777 " + mnt_ + "/readonly"), 0);
  ASSERT_EQ(Sh(as_nobody + "touch " + mnt_ + "/readonly/x", &out), 0) << out;
  ASSERT_EQ(Sh("stat -c %U " + mnt_ + "/readonly/x", &out), 0);
  EXPECT_EQ(out, "nobody\n");
}

TEST_F(FuseTest, ReadGoesOnWhenADatanodeDiesMidway) {
  std::ofstream(local_ + "/f", std::ios::binary) << TestData(8, 40 << 20);
  ASSERT_EQ(Sh("cp " + local_ + "/f " + mnt_ + "/f"), 0);
  std::string out;
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    cluster_->StopDatanode(0);
    cluster_->StopDatanode(1);
  });
  // A slow reader (pv-like: dd in small blocks), so the kill lands mid-read.
  int rc = Sh("dd if=" + mnt_ + "/f bs=64k 2>/dev/null | cmp - " + local_ + "/f", &out);
  killer.join();
  EXPECT_EQ(rc, 0) << out;
}

TEST_F(FuseTest, CopyGoesOnWhenTheNamenodeLeaderIsKilled) {
  // Many files, so the copy is busy with the namenode (create, add block, complete)
  // when its leader dies.
  std::filesystem::create_directories(local_ + "/many");
  for (int i = 0; i < 60; ++i) {
    std::ofstream(local_ + "/many/f" + std::to_string(i), std::ios::binary)
        << TestData(100 + i, 300'000 + i * 7'000);
  }
  std::string out;
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    int leader = cluster_->WaitForLeader();
    if (leader >= 0) cluster_->StopNamenode(leader);  // SIGKILL
  });
  int rc = Sh("cp -r " + local_ + "/many " + mnt_ + "/many", &out);
  killer.join();
  ASSERT_EQ(rc, 0) << out;
  ASSERT_EQ(Sh("diff -r " + local_ + "/many " + mnt_ + "/many", &out), 0) << out;
}

}  // namespace
}  // namespace dfs
