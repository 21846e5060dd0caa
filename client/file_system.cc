#include "client/file_system.h"

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <sstream>
#include <thread>

#include "client/input_stream.h"
#include "client/output_stream.h"
#include "common/rpc.h"

namespace dfs {

std::string NormalizePath(const std::string& path) {
  std::string out = "/";
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '/' && (out.back() == '/')) continue;
    out += path[i];
  }
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::string ChildPath(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

Result<std::unique_ptr<FileSystem>> FileSystem::Connect(const Config& conf) {
  std::string list = conf.GetString("namenodes", conf.GetString("namenode"));
  if (list.empty()) {
    return InvalidArgument("configuration has no 'namenodes = host:port,host:port,...'");
  }
  std::unique_ptr<FileSystem> fs(new FileSystem());
  std::stringstream ss(list);
  std::string nn;
  while (std::getline(ss, nn, ',')) {
    nn.erase(0, nn.find_first_not_of(' '));
    nn.erase(nn.find_last_not_of(' ') + 1);
    if (nn.empty()) continue;
    auto hp = SplitHostPort(nn);
    if (!hp.ok()) return InvalidArgument("namenode address '" + nn + "': " + hp.status().message());
    fs->addresses_.push_back(nn);
    fs->stubs_.push_back(proto::ClientProtocol::NewStub(MakeChannel(nn)));
  }
  if (fs->stubs_.empty()) return InvalidArgument("configuration lists no namenode");
  fs->failover_timeout_ms_ = conf.GetInt("failover_timeout_ms", 30'000);
  std::string user = conf.GetString("user");
  if (user.empty()) {
    const char* env = getenv("USER");
    if (env && *env) user = env;
    else if (struct passwd* pw = getpwuid(getuid())) user = pw->pw_name;
  }
  fs->user_ = user;
  std::random_device rd;
  char id[64];
  snprintf(id, sizeof id, "dfs-client-%d-%08x%08x", getpid(), rd(), rd());
  fs->client_name_ = id;
  fs->default_replication_ = static_cast<uint32_t>(conf.GetInt("replication", 0));
  fs->default_block_size_ = static_cast<uint64_t>(conf.GetInt("block_size", 0));
  fs->lease_renew_ms_ = conf.GetInt("lease_renew_ms", 10'000);
  std::string policy = conf.GetString("replace_datanode_on_failure", "default");
  if (policy == "always") {
    fs->replace_policy_ = ReplacePolicy::kAlways;
  } else if (policy == "never") {
    fs->replace_policy_ = ReplacePolicy::kNever;
  } else if (policy != "default") {
    return InvalidArgument("replace_datanode_on_failure is '" + policy +
                           "': want default, always or never");
  }
  return fs;
}

FileSystem::~FileSystem() {
  {
    std::lock_guard<std::mutex> l(lease_mu_);
    stopping_ = true;
    lease_cv_.notify_all();
  }
  if (renewer_.joinable()) renewer_.join();
}

void FileSystem::WriterOpened() {
  std::lock_guard<std::mutex> l(lease_mu_);
  ++open_writers_;
  if (!renewer_.joinable()) renewer_ = std::thread([this] { RenewLoop(); });
}

void FileSystem::WriterClosed() {
  std::lock_guard<std::mutex> l(lease_mu_);
  --open_writers_;
}

void FileSystem::RenewLoop() {
  std::unique_lock<std::mutex> l(lease_mu_);
  while (!lease_cv_.wait_for(l, std::chrono::milliseconds(lease_renew_ms_),
                             [&] { return stopping_; })) {
    if (open_writers_ == 0) continue;
    l.unlock();
    proto::RenewLeaseRequest req;
    req.set_client_name(client_name_);
    proto::RenewLeaseResponse resp;
    Call([&](grpc::ClientContext* c) { return stub()->RenewLease(c, req, &resp); });
    l.lock();
  }
}

Status FileSystem::Call(const std::function<grpc::Status(grpc::ClientContext*)>& fn) {
  std::string call_id = std::to_string(next_call_id_++);
  auto give_up =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(failover_timeout_ms_);
  int64_t backoff_ms = 20;
  size_t tried = 0;
  for (;;) {
    size_t at = current_;
    grpc::ClientContext ctx;
    ctx.AddMetadata(kUserKey, user_);
    ctx.AddMetadata(kClientIdKey, client_name_);
    ctx.AddMetadata(kCallIdKey, call_id);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Status s = fn(&ctx);
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE ||
        std::chrono::steady_clock::now() > give_up) {
      Status out = FromGrpc(s);
      if (out.code() == Code::kUnavailable) {
        return Unavailable("no namenode leader reachable within " +
                           std::to_string(failover_timeout_ms_) + " ms: " + out.message());
      }
      return out;
    }
    // Try the next namenode; after a whole round without a leader, wait for an election.
    current_.compare_exchange_strong(at, at + 1);
    if (++tried % stubs_.size() != 0) continue;
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms = std::min<int64_t>(backoff_ms * 2, 200);
  }
}

Result<FileSystem::MutationResult> FileSystem::Mutate(proto::Mutation m) {
  m.set_call_id(next_call_id_++);
  auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(failover_timeout_ms_);
  for (;;) {
    auto r = mutations_.Run(m);
    if (r.ok() || r.status().code() != Code::kUnavailable ||
        std::chrono::steady_clock::now() > give_up) {
      return r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Status FileSystem::SendMutations(const std::vector<const proto::Mutation*>& items,
                                 std::vector<Result<MutationResult>>* answers) {
  proto::MutationsRequest req;
  for (const auto* m : items) *req.add_mutations() = *m;
  proto::MutationsResponse resp;
  RETURN_IF_ERROR(Call([&](grpc::ClientContext* c) { return stub()->Mutations(c, req, &resp); }));
  bool not_leader = false;
  for (auto& r : *resp.mutable_results()) {
    if (r.code() != 0) {
      not_leader |= r.code() == static_cast<int>(Code::kUnavailable);
      answers->push_back(Status(static_cast<Code>(r.code()), r.message()));
    } else {
      answers->push_back(std::move(r));
    }
  }
  // A change refused because this namenode no longer leads (it stepped down while the
  // call was on its way): the next batch goes to the next namenode, as Call does when a
  // whole call is refused.
  if (not_leader) {
    size_t at = current_;
    current_.compare_exchange_strong(at, at + 1);
  }
  return Status::Ok();
}

Status FileSystem::SendStats(const std::vector<const std::string*>& paths,
                             std::vector<Result<FileStatus>>* answers) {
  proto::GetFileInfosRequest req;
  for (const auto* p : paths) req.add_paths(*p);
  proto::GetFileInfosResponse resp;
  RETURN_IF_ERROR(
      Call([&](grpc::ClientContext* c) { return stub()->GetFileInfos(c, req, &resp); }));
  for (auto& r : *resp.mutable_results()) {
    if (r.code() != 0) {
      answers->push_back(Status(static_cast<Code>(r.code()), r.message()));
    } else {
      answers->push_back(std::move(*r.mutable_status()));
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<OutputStream>> FileSystem::Create(const std::string& path,
                                                         const CreateOptions& options) {
  proto::Mutation m;
  proto::CreateRequest& req = *m.mutable_create();
  req.set_path(NormalizePath(path));
  req.set_mode(options.mode);
  req.set_client_name(client_name_);
  req.set_overwrite(options.overwrite);
  req.set_create_parent(options.create_parent);
  req.set_replication(options.replication ? options.replication : default_replication_);
  req.set_block_size(options.block_size ? options.block_size : default_block_size_);
  ASSIGN_OR_RETURN(auto r, Mutate(std::move(m)));
  return std::unique_ptr<OutputStream>(new OutputStream(this, r.create().status()));
}

Result<std::unique_ptr<OutputStream>> FileSystem::Append(const std::string& path) {
  proto::Mutation m;
  m.mutable_append()->set_path(NormalizePath(path));
  m.mutable_append()->set_client_name(client_name_);
  ASSIGN_OR_RETURN(auto r, Mutate(std::move(m)));
  return std::unique_ptr<OutputStream>(new OutputStream(this, r.append().status()));
}

Result<std::unique_ptr<InputStream>> FileSystem::Open(const std::string& path) {
  std::unique_ptr<InputStream> in(new InputStream(this, NormalizePath(path)));
  RETURN_IF_ERROR(in->FetchLocations());
  return in;
}

Status FileSystem::Mkdirs(const std::string& path, bool create_parent, uint32_t mode) {
  proto::Mutation m;
  proto::MkdirsRequest& req = *m.mutable_mkdirs();
  req.set_path(NormalizePath(path));
  req.set_create_parent(create_parent);
  req.set_mode(mode);
  return Mutate(std::move(m)).status();
}

Result<std::vector<FileStatus>> FileSystem::ListStatus(const std::string& path) {
  std::vector<FileStatus> out;
  proto::ListStatusRequest req;
  req.set_path(NormalizePath(path));
  for (;;) {
    proto::ListStatusResponse resp;
    RETURN_IF_ERROR(Call([&](grpc::ClientContext* c) { return stub()->ListStatus(c, req, &resp); }));
    for (auto& e : *resp.mutable_entries()) out.push_back(std::move(e));
    if (!resp.has_more() || out.empty()) break;
    std::string last = out.back().path();
    req.set_start_after(last.substr(last.rfind('/') + 1));
  }
  return out;
}

Result<FileStatus> FileSystem::GetFileStatus(const std::string& path) {
  return stats_.Run(NormalizePath(path));
}

Status FileSystem::Rename(const std::string& src, const std::string& dst) {
  proto::Mutation m;
  proto::RenameRequest& req = *m.mutable_rename();
  req.set_src(NormalizePath(src));
  req.set_dst(NormalizePath(dst));
  return Mutate(std::move(m)).status();
}

Status FileSystem::RenameReplace(const std::string& src, const std::string& dst) {
  proto::Mutation m;
  proto::RenameRequest& req = *m.mutable_rename();
  req.set_src(NormalizePath(src));
  req.set_dst(NormalizePath(dst));
  req.set_overwrite(true);
  return Mutate(std::move(m)).status();
}

Status FileSystem::SetPermission(const std::string& path, uint32_t mode) {
  proto::Mutation m;
  proto::SetPermissionRequest& req = *m.mutable_set_permission();
  req.set_path(NormalizePath(path));
  req.set_mode(mode);
  return Mutate(std::move(m)).status();
}

Status FileSystem::SetOwner(const std::string& path, const std::string& owner,
                            const std::string& group) {
  proto::Mutation m;
  proto::SetOwnerRequest& req = *m.mutable_set_owner();
  req.set_path(NormalizePath(path));
  req.set_owner(owner);
  req.set_group(group);
  return Mutate(std::move(m)).status();
}

Status FileSystem::SetTimes(const std::string& path, int64_t mtime_ms, int64_t atime_ms) {
  proto::Mutation m;
  proto::SetTimesRequest& req = *m.mutable_set_times();
  req.set_path(NormalizePath(path));
  req.set_mtime_ms(mtime_ms);
  req.set_atime_ms(atime_ms);
  return Mutate(std::move(m)).status();
}

Status FileSystem::Delete(const std::string& path, bool recursive) {
  proto::Mutation m;
  proto::DeleteRequest& req = *m.mutable_delete_();
  req.set_path(NormalizePath(path));
  req.set_recursive(recursive);
  return Mutate(std::move(m)).status();
}

Status FileSystem::SetReplication(const std::string& path, uint32_t replication) {
  proto::Mutation m;
  proto::SetReplicationRequest& req = *m.mutable_set_replication();
  req.set_path(NormalizePath(path));
  req.set_replication(replication);
  return Mutate(std::move(m)).status();
}

Result<ContentSummary> FileSystem::GetContentSummary(const std::string& path) {
  proto::GetContentSummaryRequest req;
  req.set_path(NormalizePath(path));
  proto::GetContentSummaryResponse resp;
  RETURN_IF_ERROR(
      Call([&](grpc::ClientContext* c) { return stub()->GetContentSummary(c, req, &resp); }));
  return ContentSummary{resp.length(), resp.file_count(), resp.directory_count(),
                        resp.space_consumed()};
}

Result<proto::GetStatsResponse> FileSystem::GetStats() {
  proto::GetStatsRequest req;
  proto::GetStatsResponse resp;
  RETURN_IF_ERROR(Call([&](grpc::ClientContext* c) { return stub()->GetStats(c, req, &resp); }));
  return resp;
}

Result<std::vector<proto::DatanodeReport>> FileSystem::GetDatanodeReport() {
  proto::GetDatanodeReportRequest req;
  proto::GetDatanodeReportResponse resp;
  RETURN_IF_ERROR(
      Call([&](grpc::ClientContext* c) { return stub()->GetDatanodeReport(c, req, &resp); }));
  return std::vector<proto::DatanodeReport>(resp.datanodes().begin(), resp.datanodes().end());
}

Result<proto::FsckResponse> FileSystem::Fsck(const std::string& path, bool list_files) {
  proto::FsckRequest req;
  req.set_path(NormalizePath(path));
  req.set_list_files(list_files);
  proto::FsckResponse resp;
  RETURN_IF_ERROR(Call([&](grpc::ClientContext* c) { return stub()->Fsck(c, req, &resp); }));
  return resp;
}

}  // namespace dfs
