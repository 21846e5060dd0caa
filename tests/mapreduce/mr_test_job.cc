// mr-test-job: word count with faults on demand, for the MapReduce integration tests.
// Parameters (mr submit --param):
//   crash_map=N crash_attempts=K  map N aborts (after a message on stderr) on attempts < K
//   hang_map=N                    map N's first attempt hangs without progress
//   slow_map=N slow_ms=T          map N's first attempt takes T ms longer
//   map_sleep_ms=T                every map attempt sleeps T ms first
//   reduce_sleep_ms=T             every reduce attempt sleeps T ms first
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "mapreduce/job.h"

namespace {

int64_t IntParam(dfs::mr::Context& ctx, const std::string& name, int64_t def) {
  std::string v = ctx.Param(name);
  return v.empty() ? def : std::stoll(v);
}

void SleepMs(int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

class FaultyWordMapper : public dfs::mr::Mapper {
 public:
  dfs::Status Setup(dfs::mr::Context& ctx) override {
    int64_t index = ctx.task().index(), attempt = ctx.task().attempt();
    if (IntParam(ctx, "crash_map", -1) == index && attempt < IntParam(ctx, "crash_attempts", 0)) {
      fprintf(stderr, "deliberate crash in map %ld attempt %ld\n", (long)index, (long)attempt);
      fflush(stderr);
      abort();
    }
    if (IntParam(ctx, "hang_map", -1) == index && attempt == 0) {
      while (true) SleepMs(1000);
    }
    if (IntParam(ctx, "slow_map", -1) == index && attempt == 0)
      SleepMs(IntParam(ctx, "slow_ms", 0));
    SleepMs(IntParam(ctx, "map_sleep_ms", 0));
    return dfs::Status::Ok();
  }
  dfs::Status Map(uint64_t, std::string_view line, dfs::mr::Context& ctx) override {
    size_t i = 0, n = line.size();
    while (i < n) {
      while (i < n && isspace(static_cast<unsigned char>(line[i]))) ++i;
      size_t start = i;
      while (i < n && !isspace(static_cast<unsigned char>(line[i]))) ++i;
      if (i > start) ctx.Emit(line.substr(start, i - start), "1");
    }
    return dfs::Status::Ok();
  }
};

class SumReducer : public dfs::mr::Reducer {
 public:
  explicit SumReducer(bool reduce) : reduce_(reduce) {}
  dfs::Status Setup(dfs::mr::Context& ctx) override {
    if (reduce_) SleepMs(IntParam(ctx, "reduce_sleep_ms", 0));
    return dfs::Status::Ok();
  }
  dfs::Status Reduce(std::string_view key, dfs::mr::Values& values,
                     dfs::mr::Context& ctx) override {
    int64_t sum = 0;
    std::string_view v;
    while (values.Next(&v)) {
      int64_t n = 0;
      std::from_chars(v.data(), v.data() + v.size(), n);
      sum += n;
    }
    ctx.Count("WORDS", sum);
    ctx.Emit(key, std::to_string(sum));
    return dfs::Status::Ok();
  }

 private:
  bool reduce_;
};

}  // namespace

int main(int argc, char** argv) {
  dfs::mr::Job job;
  job.mapper = [] { return std::make_unique<FaultyWordMapper>(); };
  job.reducer = [] { return std::make_unique<SumReducer>(true); };
  job.combiner = [] { return std::make_unique<SumReducer>(false); };
  return dfs::mr::RunJob(argc, argv, job);
}
