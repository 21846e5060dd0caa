#include "mapreduce/jobmaster_service.h"

#include <google/protobuf/util/json_util.h>

#include <chrono>

#include "client/input_stream.h"
#include "client/output_stream.h"
#include "common/logging.h"
#include "common/rpc.h"
#include "mapreduce/task_names.h"

namespace dfs::mr {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

std::string StartStamp() {
  time_t t = time(nullptr);
  struct tm tm;
  localtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
  return buf;
}

bool Hidden(const std::string& path) {
  auto slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  return !name.empty() && (name[0] == '_' || name[0] == '.');
}

Status WriteText(FileSystem* fs, const std::string& path, const std::string& text) {
  CreateOptions co;
  co.overwrite = true;
  ASSIGN_OR_RETURN(auto out, fs->Create(path, co));
  RETURN_IF_ERROR(out->Write(text.data(), text.size()));
  return out->Close();
}

}  // namespace

JobMasterService::JobMasterService(std::unique_ptr<FileSystem> fs, SchedulerOptions options)
    : fs_(std::move(fs)),
      scheduler_(options, StartStamp(),
                 [this](const std::string& job, const mrpb::JobSpec& spec, uint32_t reduce,
                        uint32_t attempt) {
                   return fs_->Rename(TempOutputPath(spec.output(), reduce, attempt),
                                      spec.output() + "/" + PartName(reduce));
                 }) {
  background_ = std::thread([this] { BackgroundLoop(); });
}

JobMasterService::~JobMasterService() {
  stop_ = true;
  background_.join();
}

Status JobMasterService::Validate(const mrpb::JobSpec& spec) {
  if (spec.inputs().empty()) return InvalidArgument("the job has no input (--input PATH)");
  if (spec.output().empty()) return InvalidArgument("the job has no output (--output PATH)");
  if (spec.output()[0] != '/') {
    return InvalidArgument("output path must be absolute: " + spec.output());
  }
  if (spec.output() == "/") return InvalidArgument("output cannot be /");
  if (spec.reducers() < 1 || spec.reducers() > 1000) {
    return InvalidArgument("reducers must be 1..1000, not " + std::to_string(spec.reducers()));
  }
  if (spec.binary_path().empty() == spec.mapper_cmd().empty()) {
    return InvalidArgument("a job needs exactly one of a binary or a streaming mapper command");
  }
  if (spec.max_attempts() > 100) return InvalidArgument("max_attempts must be at most 100");
  if (spec.task_timeout_ms() < 0) return InvalidArgument("task_timeout_ms must not be negative");
  if (spec.sort_buffer_bytes() > (4ull << 30)) return InvalidArgument("sort buffer over 4 GiB");
  size_t params = 0;
  for (const auto& [k, v] : spec.params()) params += k.size() + v.size();
  if (params > (1 << 20)) return InvalidArgument("job parameters over 1 MiB");
  for (const auto& in : spec.inputs()) {
    if (in.empty() || in[0] != '/') return InvalidArgument("input path must be absolute: " + in);
    if (in == spec.output() || in.rfind(spec.output() + "/", 0) == 0) {
      return InvalidArgument("input " + in + " is inside the output directory");
    }
  }
  if (!spec.binary_path().empty()) {
    auto st = fs_->GetFileStatus(spec.binary_path());
    if (!st.ok()) return NotFound("job binary not found: " + spec.binary_path());
    if (st->type() != proto::FILE) {
      return InvalidArgument("job binary is not a file: " + spec.binary_path());
    }
  }
  auto out = fs_->GetFileStatus(spec.output());
  if (out.ok()) return AlreadyExists("output directory already exists: " + spec.output());
  if (out.status().code() != Code::kNotFound) return out.status();
  return Status::Ok();
}

Result<std::vector<mrpb::Split>> JobMasterService::ComputeSplits(const mrpb::JobSpec& spec) {
  std::vector<std::string> files;
  for (const auto& in : spec.inputs()) {
    auto st = fs_->GetFileStatus(in);
    if (!st.ok()) {
      if (st.status().code() == Code::kNotFound) return NotFound("input not found: " + in);
      return st.status();
    }
    if (st->type() == proto::DIRECTORY) {
      ASSIGN_OR_RETURN(auto entries, fs_->ListStatus(in));
      for (const auto& e : entries) {
        std::string path = in == "/" ? "/" + e.path() : in + "/" + e.path();
        if (e.path().find('/') != std::string::npos) path = e.path();
        if (e.type() == proto::FILE && !Hidden(path)) files.push_back(path);
      }
    } else {
      files.push_back(in);
    }
  }
  std::vector<mrpb::Split> splits;
  for (const auto& f : files) {
    proto::GetBlockLocationsRequest req;
    req.set_path(f);
    proto::GetBlockLocationsResponse resp;
    RETURN_IF_ERROR(fs_->Call(
        [&](grpc::ClientContext* c) { return fs_->stub()->GetBlockLocations(c, req, &resp); }));
    for (const auto& b : resp.blocks()) {
      uint64_t len = std::min<uint64_t>(b.block().num_bytes(), resp.file_length() - b.offset());
      if (len == 0) continue;
      mrpb::Split s;
      s.set_path(f);
      s.set_offset(b.offset());
      s.set_length(len);
      for (const auto& d : b.locations()) {
        s.add_hosts(d.host() + ":" + std::to_string(d.data_port()));
        s.add_racks(d.rack());
      }
      splits.push_back(std::move(s));
    }
  }
  if (splits.empty()) return InvalidArgument("the input holds no data (empty or no files)");
  return splits;
}

grpc::Status JobMasterService::SubmitJob(grpc::ServerContext* ctx,
                                         const mrpb::SubmitJobRequest* req,
                                         mrpb::SubmitJobResponse* resp) {
  mrpb::JobSpec spec = req->spec();
  if (spec.user().empty()) spec.set_user(GetMetadata(*ctx, kUserKey));
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!submitting_outputs_.insert(spec.output()).second) {
      return ToGrpc(AlreadyExists("another job is being submitted with output " + spec.output()));
    }
  }
  auto release = [&] {
    std::lock_guard<std::mutex> l(mu_);
    submitting_outputs_.erase(spec.output());
  };
  Status st = Validate(spec);
  Result<std::vector<mrpb::Split>> splits =
      st.ok() ? ComputeSplits(spec) : Result<std::vector<mrpb::Split>>(st);
  if (splits.ok())
    st = fs_->Mkdirs(spec.output() + "/_temporary");
  else
    st = splits.status();
  if (!st.ok()) {
    release();
    return ToGrpc(st);
  }
  std::lock_guard<std::mutex> l(mu_);
  submitting_outputs_.erase(spec.output());
  resp->set_job_id(scheduler_.AddJob(spec, std::move(*splits), NowMs()));
  spdlog::info("job {} submitted: {} -> {}, {} reducers", resp->job_id(), spec.inputs(0),
               spec.output(), spec.reducers());
  return grpc::Status::OK;
}

grpc::Status JobMasterService::GetJob(grpc::ServerContext*, const mrpb::GetJobRequest* req,
                                      mrpb::GetJobResponse* resp) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto job = scheduler_.GetJob(req->job_id(), req->with_tasks());
    if (job.ok()) {
      *resp->mutable_job() = std::move(*job);
      return grpc::Status::OK;
    }
  }
  if (req->job_id().find('/') != std::string::npos || req->job_id().empty()) {
    return ToGrpc(InvalidArgument("bad job id: " + req->job_id()));
  }
  // A job from before the jobmaster started: its history.
  auto in = fs_->Open(std::string(kHistoryDir) + "/" + req->job_id() + ".json");
  if (!in.ok()) return ToGrpc(NotFound("no such job: " + req->job_id()));
  std::string text((*in)->length(), '\0');
  size_t done = 0;
  while (done < text.size()) {
    auto n = (*in)->Read(text.data() + done, text.size() - done);
    if (!n.ok()) return ToGrpc(n.status());
    if (*n == 0) break;
    done += *n;
  }
  if (!google::protobuf::util::JsonStringToMessage(text, resp->mutable_job()).ok()) {
    return ToGrpc(DataLoss("unreadable history of " + req->job_id()));
  }
  if (!req->with_tasks()) resp->mutable_job()->clear_tasks();
  return grpc::Status::OK;
}

grpc::Status JobMasterService::ListJobs(grpc::ServerContext*, const mrpb::ListJobsRequest*,
                                        mrpb::ListJobsResponse* resp) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& j : scheduler_.ListJobs()) *resp->add_jobs() = std::move(j);
  return grpc::Status::OK;
}

grpc::Status JobMasterService::KillJob(grpc::ServerContext*, const mrpb::KillJobRequest* req,
                                       mrpb::KillJobResponse*) {
  std::lock_guard<std::mutex> l(mu_);
  Status st = scheduler_.KillJob(req->job_id(), NowMs());
  if (st.ok()) spdlog::info("job {} killed", req->job_id());
  return ToGrpc(st);
}

grpc::Status JobMasterService::Heartbeat(grpc::ServerContext*, const mrpb::HeartbeatRequest* req,
                                         mrpb::HeartbeatResponse* resp) {
  if (req->worker_id().empty() || req->shuffle_address().empty()) {
    return ToGrpc(InvalidArgument("heartbeat without worker id or shuffle address"));
  }
  std::lock_guard<std::mutex> l(mu_);
  *resp = scheduler_.Heartbeat(*req, NowMs());
  for (const auto& t : resp->launch()) {
    spdlog::info("launch {} {} on {}", t.job_id(), AttemptName(t.type(), t.index(), t.attempt()),
                 req->worker_id());
  }
  return grpc::Status::OK;
}

grpc::Status JobMasterService::GetMapOutputs(grpc::ServerContext*,
                                             const mrpb::GetMapOutputsRequest* req,
                                             mrpb::GetMapOutputsResponse* resp) {
  std::lock_guard<std::mutex> l(mu_);
  auto r = scheduler_.GetMapOutputs(*req, NowMs());
  if (!r.ok()) return ToGrpc(r.status());
  *resp = std::move(*r);
  return grpc::Status::OK;
}

void JobMasterService::Finalize(const std::string& job_id) {
  mrpb::JobStatus job;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto j = scheduler_.GetJob(job_id, true);
    if (!j.ok()) return;
    job = std::move(*j);
  }
  const std::string& out = job.spec().output();
  if (job.state() == mrpb::JOB_RUNNING) {
    Status st = WriteText(fs_.get(), out + "/_SUCCESS", "");
    if (st.ok()) st = fs_->Delete(out + "/_temporary", true);
    std::lock_guard<std::mutex> l(mu_);
    scheduler_.JobFinalized(job_id, st, NowMs());
    return;
  }
  if (job.state() != mrpb::JOB_SUCCEEDED) (void)fs_->Delete(out + "/_temporary", true);
  const std::string& bin = job.spec().binary_path();
  if (bin.rfind(std::string(kStagingDir) + "/", 0) == 0) {
    (void)fs_->Delete(bin.substr(0, bin.rfind('/')), true);
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions po;
  po.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(job, &json, po);
  Status st = WriteText(fs_.get(), std::string(kHistoryDir) + "/" + job_id + ".json", json);
  spdlog::info("job {} ended: {}{}{}", job_id, mrpb::JobState_Name(job.state()),
               job.error().empty() ? "" : ": ", job.error());
  if (!st.ok()) spdlog::warn("history of {} not written: {}", job_id, st.ToString());
}

void JobMasterService::BackgroundLoop() {
  while (!stop_) {
    std::vector<std::string> jobs;
    {
      std::lock_guard<std::mutex> l(mu_);
      scheduler_.Tick(NowMs());
      jobs = scheduler_.TakeJobsToFinalize();
    }
    for (const auto& j : jobs) Finalize(j);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace dfs::mr
