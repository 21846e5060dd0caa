// wordcount: counts words, as Hadoop's example does: a word is a run of non-whitespace
// bytes (case and punctuation kept); the output is "word<TAB>count", keys in byte order.
//   mr submit --binary build/bin/wordcount --input /in --output /out --reducers 4 --wait
#include <charconv>

#include "mapreduce/job.h"

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

class WordMapper : public dfs::mr::Mapper {
 public:
  dfs::Status Map(uint64_t, std::string_view line, dfs::mr::Context& ctx) override {
    size_t i = 0, n = line.size();
    while (i < n) {
      while (i < n && IsSpace(line[i])) ++i;
      size_t start = i;
      while (i < n && !IsSpace(line[i])) ++i;
      if (i > start) ctx.Emit(line.substr(start, i - start), "1");
    }
    return dfs::Status::Ok();
  }
};

// Reducer and combiner: sums the counts of a word.
class SumReducer : public dfs::mr::Reducer {
 public:
  dfs::Status Reduce(std::string_view key, dfs::mr::Values& values, dfs::mr::Context& ctx) override {
    int64_t sum = 0;
    std::string_view v;
    while (values.Next(&v)) {
      int64_t n = 0;
      auto r = std::from_chars(v.data(), v.data() + v.size(), n);
      if (r.ec != std::errc()) return dfs::InvalidArgument("not a count: " + std::string(v));
      sum += n;
    }
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, sum);
    ctx.Emit(key, std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
    return dfs::Status::Ok();
  }
};

}  // namespace

int main(int argc, char** argv) {
  dfs::mr::Job job;
  job.mapper = [] { return std::make_unique<WordMapper>(); };
  job.reducer = [] { return std::make_unique<SumReducer>(); };
  job.combiner = job.reducer;
  return dfs::mr::RunJob(argc, argv, job);
}
