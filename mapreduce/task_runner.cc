// RunJob: the task side of the job API. A worker starts the job program with
// `--mr-task FILE` (a serialized TaskAssignment) and reads status lines from the pipe on
// file descriptor $MR_STATUS_FD: "progress F", "counter NAME VALUE", "error MESSAGE".
// Exit code 0 means the attempt succeeded.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "client/file_system.h"
#include "client/input_stream.h"
#include "client/output_stream.h"
#include "common/rpc.h"
#include "mapreduce/job.h"
#include "mapreduce/line_reader.h"
#include "mapreduce/map_output.h"
#include "mapreduce/task_names.h"
#include "proto/mapreduce.grpc.pb.h"

namespace dfs::mr {

std::string Context::Param(const std::string& name, const std::string& def) const {
  const auto& p = task_->spec().params();
  auto it = p.find(name);
  return it == p.end() ? def : it->second;
}

namespace {

class StatusPipe {
 public:
  StatusPipe() {
    const char* env = getenv("MR_STATUS_FD");
    fd_ = env ? atoi(env) : -1;
  }
  void Line(const std::string& line) {
    if (fd_ < 0) return;
    std::string l = line;
    for (auto& c : l) {
      if (c == '\n') c = ' ';
    }
    l += '\n';
    (void)!::write(fd_, l.data(), l.size());
  }
  void Progress(double f) {
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    char buf[64];
    snprintf(buf, sizeof buf, "progress %.4f", f);
    Line(buf);
  }

 private:
  int fd_;
  std::chrono::steady_clock::time_point last_{};
};

class StreamSource : public ByteSource {
 public:
  explicit StreamSource(InputStream* in) : in_(in) {}
  Status Seek(uint64_t pos) override { return in_->Seek(pos); }
  Result<size_t> Read(char* buf, size_t n) override { return in_->Read(buf, n); }

 private:
  InputStream* in_;
};

using Counters = std::map<std::string, int64_t>;

class FnContext : public Context {
 public:
  FnContext(const mrpb::TaskAssignment* t, Counters* c, FileSystem* fs,
            std::function<void(std::string_view, std::string_view)> emit)
      : Context(t, c, fs), emit_(std::move(emit)) {}
  void Emit(std::string_view k, std::string_view v) override { emit_(k, v); }

 private:
  std::function<void(std::string_view, std::string_view)> emit_;
};

Status RunReducer(Reducer* r, Context& ctx, SortedRecords* in, Counters* counters,
                  const char* groups_counter) {
  RETURN_IF_ERROR(r->Setup(ctx));
  RETURN_IF_ERROR(ForEachGroup(in, [&](std::string_view key, Values& values) {
    if (groups_counter) ++(*counters)[groups_counter];
    return r->Reduce(key, values, ctx);
  }));
  return r->Cleanup(ctx);
}

Status RunMap(const mrpb::TaskAssignment& task, const Job& job, FileSystem* fs, Counters* counters,
              StatusPipe* pipe) {
  const auto& split = task.split();
  uint32_t partitions = task.spec().reducers();
  Counters combine_counters;
  MapOutputOptions o;
  o.partitions = partitions;
  o.buffer_bytes = task.spec().sort_buffer_bytes() ? task.spec().sort_buffer_bytes() : 64 << 20;
  o.spill_dir = task.work_dir();
  o.compress = task.spec().compress_map_output();
  if (job.combiner) {
    o.combiner = [&](SortedRecords* in,
                     const std::function<void(std::string_view, std::string_view)>& emit) {
      auto c = job.combiner();
      FnContext ctx(&task, &combine_counters, fs, emit);
      return RunReducer(c.get(), ctx, in, counters, nullptr);
    };
  }
  MapOutputBuffer buffer(o);
  std::unique_ptr<Partitioner> partitioner = job.partitioner ? job.partitioner() : nullptr;
  Status emit_error;
  int64_t out_records = 0;
  FnContext ctx(&task, counters, fs, [&](std::string_view k, std::string_view v) {
    if (!emit_error.ok()) return;
    uint32_t p = partitioner ? partitioner->Partition(k, partitions) : HashPartition(k, partitions);
    emit_error = buffer.Add(p, k, v);
    ++out_records;
  });
  if (partitioner) RETURN_IF_ERROR(partitioner->Setup(ctx));
  auto mapper = job.mapper();
  RETURN_IF_ERROR(mapper->Setup(ctx));

  ASSIGN_OR_RETURN(auto in, fs->Open(split.path()));
  StreamSource source(in.get());
  SplitLineReader lines(&source, split.offset(), split.length());
  std::string_view line;
  uint64_t offset = 0;
  int64_t records = 0;
  while (true) {
    ASSIGN_OR_RETURN(bool more, lines.Next(&line, &offset));
    if (!more) break;
    ++records;
    RETURN_IF_ERROR(mapper->Map(offset, line, ctx));
    RETURN_IF_ERROR(emit_error);
    if ((records & 1023) == 0 && split.length() > 0) {
      pipe->Progress(std::min(
          0.95, static_cast<double>(lines.consumed()) / static_cast<double>(split.length())));
    }
  }
  RETURN_IF_ERROR(mapper->Cleanup(ctx));
  RETURN_IF_ERROR(emit_error);
  pipe->Line("progress 0.95");
  std::string out = task.map_output_dir() + "/" + MapOutputName(task.index(), task.attempt());
  RETURN_IF_ERROR(buffer.Finish(out));
  (*counters)["MAP_INPUT_RECORDS"] += records;
  (*counters)["MAP_INPUT_BYTES"] += static_cast<int64_t>(lines.consumed());
  (*counters)["MAP_OUTPUT_RECORDS"] += out_records;
  (*counters)["SPILLS"] += buffer.spills();
  if (job.combiner) {
    (*counters)["COMBINE_OUTPUT_RECORDS"] += static_cast<int64_t>(buffer.output_records());
  }
  std::error_code ec;
  (*counters)["MAP_OUTPUT_BYTES"] += static_cast<int64_t>(std::filesystem::file_size(out, ec));
  return Status::Ok();
}

// Pulls one map's partition into path (decompressed); returns its size on the wire.
Result<int64_t> FetchOne(const mrpb::TaskAssignment& task, const mrpb::MapOutputLocation& loc,
                         const std::string& path) {
  auto shuffle = mrpb::Shuffle::NewStub(MakeChannel(loc.worker()));
  grpc::ClientContext sc;
  sc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  mrpb::GetMapOutputRequest mreq;
  mreq.set_job_id(task.job_id());
  mreq.set_map(loc.map());
  mreq.set_attempt(loc.attempt());
  mreq.set_partition(task.index());
  auto reader = shuffle->GetMapOutput(&sc, mreq);
  std::string data;
  mrpb::MapOutputChunk chunk;
  while (reader->Read(&chunk)) data.append(chunk.data());
  RETURN_IF_ERROR(FromGrpc(reader->Finish()));
  int64_t bytes = static_cast<int64_t>(data.size());
  if (task.spec().compress_map_output() && !data.empty()) {
    ASSIGN_OR_RETURN(data, DecompressSegment(data));
  }
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  f.close();
  if (!f) return IoError("cannot write " + path);
  return bytes;
}

// Pulls partition `task.index()` of every map's output into the work directory, as maps
// finish, a few maps at a time, until all are here.
Status FetchMapOutputs(const mrpb::TaskAssignment& task, Counters* counters, StatusPipe* pipe,
                       std::vector<std::string>* segments) {
  constexpr size_t kParallelFetches = 4;
  auto jm = mrpb::JobMaster::NewStub(MakeChannel(task.jobmaster()));
  std::map<uint32_t, std::string> fetched;
  std::vector<mrpb::MapOutputLocation> lost;
  int64_t shuffle_bytes = 0;
  while (true) {
    mrpb::GetMapOutputsRequest req;
    req.set_job_id(task.job_id());
    req.set_reduce(task.index());
    for (auto& l : lost) *req.add_lost() = l;
    mrpb::GetMapOutputsResponse resp;
    grpc::ClientContext c;
    c.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status gs = jm->GetMapOutputs(&c, req, &resp);
    if (gs.ok()) lost.clear();
    if (gs.ok() && resp.job_over()) return Aborted("the job is over");
    std::vector<mrpb::MapOutputLocation> todo;
    for (const auto& loc : resp.outputs()) {
      if (!fetched.count(loc.map())) todo.push_back(loc);
    }
    bool progress = false;
    for (size_t b = 0; b < todo.size(); b += kParallelFetches) {
      size_t n = std::min(kParallelFetches, todo.size() - b);
      std::vector<Result<int64_t>> results(n, Result<int64_t>(Unavailable("not fetched")));
      std::vector<std::thread> threads;
      for (size_t i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
          const auto& loc = todo[b + i];
          results[i] =
              FetchOne(task, loc, task.work_dir() + "/map_" + std::to_string(loc.map()) + ".seg");
        });
      }
      for (auto& t : threads) t.join();
      for (size_t i = 0; i < n; ++i) {
        const auto& loc = todo[b + i];
        if (!results[i].ok()) {
          // A dead worker's outputs are rerun when the jobmaster notices it is gone; a live
          // worker that lost the output is reported so the map runs again now.
          if (results[i].status().code() == Code::kNotFound) lost.push_back(loc);
          if (results[i].status().code() == Code::kDataLoss) return results[i].status();
          fprintf(stderr, "fetch of map %u from %s failed: %s\n", loc.map(), loc.worker().c_str(),
                  results[i].status().ToString().c_str());
          continue;
        }
        fetched[loc.map()] = task.work_dir() + "/map_" + std::to_string(loc.map()) + ".seg";
        shuffle_bytes += *results[i];
        progress = true;
      }
      pipe->Progress(0.5 * static_cast<double>(fetched.size()) / std::max(1u, resp.num_maps()));
    }
    if (resp.num_maps() > 0 && fetched.size() == resp.num_maps()) break;
    if (resp.num_maps() > 0) {
      pipe->Progress(0.5 * static_cast<double>(fetched.size()) / resp.num_maps());
    }
    if (!progress) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  (*counters)["REDUCE_SHUFFLE_BYTES"] += shuffle_bytes;
  for (auto& [m, path] : fetched) segments->push_back(path);
  return Status::Ok();
}

// Counts records as they pass and reports progress by records read.
class CountingRecords : public SortedRecords {
 public:
  CountingRecords(SortedRecords* in, int64_t* count) : in_(in), count_(count) {}
  Result<bool> Next() override {
    ASSIGN_OR_RETURN(bool more, in_->Next());
    if (more) ++*count_;
    return more;
  }
  std::string_view key() const override { return in_->key(); }
  std::string_view value() const override { return in_->value(); }

 private:
  SortedRecords* in_;
  int64_t* count_;
};

Status RunReduce(const mrpb::TaskAssignment& task, const Job& job, FileSystem* fs,
                 Counters* counters, StatusPipe* pipe) {
  std::vector<std::string> segments;
  RETURN_IF_ERROR(FetchMapOutputs(task, counters, pipe, &segments));
  pipe->Line("progress 0.5");
  std::vector<std::unique_ptr<SortedRecords>> inputs;
  for (const auto& s : segments) {
    ASSIGN_OR_RETURN(auto r, RecordReader::OpenFile(s));
    inputs.push_back(std::move(r));
  }
  MergeIterator merged(std::move(inputs));
  int64_t in_records = 0;
  CountingRecords counted(&merged, &in_records);

  std::string tmp = TempOutputPath(task.spec().output(), task.index(), task.attempt());
  CreateOptions co;
  co.overwrite = true;
  ASSIGN_OR_RETURN(auto out, fs->Create(tmp, co));
  std::string buf;
  Status write_error;
  int64_t out_records = 0;
  FnContext ctx(&task, counters, fs, [&](std::string_view k, std::string_view v) {
    buf.append(k);
    if (!v.empty()) {
      buf.push_back('\t');
      buf.append(v);
    }
    buf.push_back('\n');
    ++out_records;
    if (buf.size() >= (4 << 20) && write_error.ok()) {
      write_error = out->Write(buf.data(), buf.size());
      buf.clear();
      pipe->Line("progress 0.75");
    }
  });
  auto reducer = job.reducer();
  RETURN_IF_ERROR(RunReducer(reducer.get(), ctx, &counted, counters, "REDUCE_INPUT_GROUPS"));
  RETURN_IF_ERROR(write_error);
  RETURN_IF_ERROR(out->Write(buf.data(), buf.size()));
  RETURN_IF_ERROR(out->Close());
  (*counters)["REDUCE_INPUT_RECORDS"] += in_records;
  (*counters)["REDUCE_OUTPUT_RECORDS"] += out_records;
  return Status::Ok();
}

Status RunTask(const std::string& task_file, const Job& job, Counters* counters, StatusPipe* pipe) {
  if (!job.mapper || !job.reducer) return InvalidArgument("the job has no mapper or reducer");
  std::ifstream f(task_file, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  mrpb::TaskAssignment task;
  if (!f || !task.ParseFromString(ss.str())) return InvalidArgument("bad task file " + task_file);
  pipe->Line("progress 0");  // started
  ASSIGN_OR_RETURN(auto fs, FileSystem::Connect(NamenodeConfig(task.namenode())));
  if (task.type() == mrpb::MAP) return RunMap(task, job, fs.get(), counters, pipe);
  return RunReduce(task, job, fs.get(), counters, pipe);
}

}  // namespace

int RunJob(int argc, char** argv, const Job& job) {
  std::string task_file;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--mr-task") task_file = argv[i + 1];
  }
  if (task_file.empty()) {
    fprintf(stderr,
            "%s is a MapReduce job program; run it on the cluster with:\n"
            "  mr submit --binary %s --input /in --output /out [--reducers N] [--wait]\n",
            argv[0], argv[0]);
    return 2;
  }
  StatusPipe pipe;
  Counters counters;
  Status st = RunTask(task_file, job, &counters, &pipe);
  for (const auto& [name, value] : counters)
    pipe.Line("counter " + name + " " + std::to_string(value));
  if (!st.ok()) {
    pipe.Line("error " + st.message());
    fprintf(stderr, "task failed: %s\n", st.ToString().c_str());
    return 1;
  }
  pipe.Line("progress 1");
  return 0;
}

}  // namespace dfs::mr
