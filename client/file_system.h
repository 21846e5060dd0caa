// libdfs: the client library. A FileSystem talks to the namenode for metadata and to
// datanodes for block data; InputStream and OutputStream read and write files.
//
// Paths are absolute ("/a/b"); a relative path is taken from the root, and trailing
// slashes are dropped. Errors are Status values whose messages name the path
// ("no such file or directory: /a/b").
//
// A FileSystem is thread-safe; each stream is used by one thread at a time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/batch.h"
#include "common/config.h"
#include "common/status.h"
#include "proto/namenode.grpc.pb.h"

namespace dfs {

class InputStream;
class OutputStream;

using FileStatus = proto::FileStatus;

struct CreateOptions {
  bool overwrite = false;
  bool create_parent = true;
  uint32_t replication = 0;  // 0: the client configuration's, else the namenode's default
  uint64_t block_size = 0;
  uint32_t mode = 0644;
};

struct ContentSummary {
  uint64_t length = 0;
  uint64_t file_count = 0;
  uint64_t directory_count = 0;
  uint64_t space_consumed = 0;
};

class FileSystem {
 public:
  // Keys read from conf: namenodes (host:port,host:port,...: the namenode group; the
  // key `namenode` is read too), replication, block_size, user, failover_timeout_ms,
  // lease_renew_ms, replace_datanode_on_failure.
  static Result<std::unique_ptr<FileSystem>> Connect(const Config& conf);
  ~FileSystem();

  Result<std::unique_ptr<OutputStream>> Create(const std::string& path,
                                               const CreateOptions& options = {});
  // Opens a closed file for writing at its end. New data starts a new block.
  Result<std::unique_ptr<OutputStream>> Append(const std::string& path);
  Result<std::unique_ptr<InputStream>> Open(const std::string& path);

  Status Mkdirs(const std::string& path, bool create_parent = true, uint32_t mode = 0755);
  // A directory's entries (all of them, paged from the namenode), or the file itself.
  Result<std::vector<FileStatus>> ListStatus(const std::string& path);
  Result<FileStatus> GetFileStatus(const std::string& path);
  // HDFS rename: into dst if it is a directory; never replaces an existing file.
  Status Rename(const std::string& src, const std::string& dst);
  // POSIX rename: dst is the new name; an existing file (or empty directory) is replaced.
  Status RenameReplace(const std::string& src, const std::string& dst);
  Status SetPermission(const std::string& path, uint32_t mode);
  // Empty owner or group: unchanged.
  Status SetOwner(const std::string& path, const std::string& owner, const std::string& group);
  // -1: unchanged.
  Status SetTimes(const std::string& path, int64_t mtime_ms, int64_t atime_ms);
  Status Delete(const std::string& path, bool recursive);
  Status SetReplication(const std::string& path, uint32_t replication);
  Result<ContentSummary> GetContentSummary(const std::string& path);
  Result<proto::GetStatsResponse> GetStats();
  Result<std::vector<proto::DatanodeReport>> GetDatanodeReport();
  // Block health under path (see FsckRequest in proto/namenode.proto).
  Result<proto::FsckResponse> Fsck(const std::string& path, bool list_files);

  // For streams: namenode calls with the client's identity and retry policy. stub() is
  // the namenode believed to lead; Call moves on to the next one when it is not.
  proto::ClientProtocol::Stub* stub() { return stubs_[current_ % stubs_.size()].get(); }
  // Each namenode of the group, for calls about one replica (dfs admin namenode status).
  const std::vector<std::string>& namenodes() const { return addresses_; }
  proto::ClientProtocol::Stub* stub_at(size_t i) { return stubs_.at(i).get(); }
  const std::string& client_name() const { return client_name_; }
  const std::string& user() const { return user_; }
  // Runs one namenode call: sets user, client id and a call id that stays the same across
  // retries. UNAVAILABLE (a namenode down, or not the leader) moves to the next namenode
  // at once, and after a full round waits (backoff up to 200 ms); after
  // failover_timeout_ms (default 30 s) the call fails with Unavailable.
  Status Call(const std::function<grpc::Status(grpc::ClientContext*)>& fn);
  // Runs one mutation (a Mutation with one request set) with its own call id, in a batch
  // with the other threads' (client/batch.h), with Call's retries and failover; a mutation
  // that met a leader change is sent again. Its answer, or why it failed.
  using MutationResult = proto::MutationsResponse::Result;
  Result<MutationResult> Mutate(proto::Mutation m);
  // Output streams register while open; the lease is renewed for them every
  // `lease_renew_ms` (client configuration, default 10 s).
  void WriterOpened();
  void WriterClosed();

  // When a datanode of a write pipeline fails, the write goes on with the survivors and
  // (`replace_datanode_on_failure` in the client configuration):
  //   default: as many new datanodes as bring it back to the replication, if there are;
  //   always:  the same, and the write fails if there are not;
  //   never:   no new datanodes (the namenode re-replicates the block once it is closed).
  enum class ReplacePolicy { kDefault, kAlways, kNever };
  ReplacePolicy replace_policy() const { return replace_policy_; }

 private:
  FileSystem() = default;

  std::vector<std::string> addresses_;
  std::vector<std::unique_ptr<proto::ClientProtocol::Stub>> stubs_;
  std::atomic<size_t> current_{0};
  int64_t failover_timeout_ms_ = 30'000;
  std::string user_;
  std::string client_name_;
  uint32_t default_replication_ = 0;
  uint64_t default_block_size_ = 0;
  std::atomic<uint64_t> next_call_id_{1};
  void RenewLoop();
  int64_t lease_renew_ms_ = 10'000;
  ReplacePolicy replace_policy_ = ReplacePolicy::kDefault;
  std::mutex lease_mu_;
  std::condition_variable lease_cv_;
  int open_writers_ = 0;     // guarded by lease_mu_
  bool stopping_ = false;    // guarded by lease_mu_
  std::thread renewer_;      // started with the first writer
  // Concurrent stats share namenode calls (one batch on the wire at a time), and so do
  // concurrent mutations (three at a time: a mutation's call waits for the log's fsync,
  // which a single batch would leave the namenode idle for). See client/batch.h.
  Batch<std::string, Result<FileStatus>> stats_{
      1, [this](auto& paths, auto* answers) { return SendStats(paths, answers); }};
  Batch<proto::Mutation, Result<MutationResult>> mutations_{
      3, [this](auto& items, auto* answers) { return SendMutations(items, answers); }};
  Status SendStats(const std::vector<const std::string*>& paths,
                   std::vector<Result<FileStatus>>* answers);
  Status SendMutations(const std::vector<const proto::Mutation*>& items,
                       std::vector<Result<MutationResult>>* answers);
};

// "/a//b/" -> "/a/b"; "a" -> "/a". Leaves the namenode to refuse "..", NUL and the like.
std::string NormalizePath(const std::string& path);
// The path of `name` in the normalized directory `dir`: ("/", "a") -> "/a", ("/d", "a") ->
// "/d/a".
std::string ChildPath(const std::string& dir, const std::string& name);

}  // namespace dfs
