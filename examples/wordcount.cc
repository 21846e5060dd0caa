// wordcount: counts words, as Hadoop's example does: a word is a run of non-whitespace
// bytes (case and punctuation kept); the output is "word<TAB>count", keys in byte order.
// Maps count in a bounded table of their own ("in-mapper combining") and emit
// (word, count) pairs, so the sort buffer sees one record per distinct word instead of one
// per occurrence; the combiner and reducer sum.
//   mr submit --binary build/bin/wordcount --input /in --output /out --reducers 4 --wait
#include <charconv>
#include <string>
#include <unordered_map>

#include "mapreduce/job.h"

namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

struct Hash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

class WordMapper : public dfs::mr::Mapper {
 public:
  dfs::Status Map(uint64_t, std::string_view line, dfs::mr::Context& ctx) override {
    size_t i = 0, n = line.size();
    while (i < n) {
      while (i < n && IsSpace(line[i])) ++i;
      size_t start = i;
      while (i < n && !IsSpace(line[i])) ++i;
      if (i == start) continue;
      std::string_view word = line.substr(start, i - start);
      auto it = counts_.find(word);
      if (it != counts_.end())
        ++it->second;
      else
        counts_.emplace(std::string(word), 1);
    }
    if (counts_.size() >= kMaxWords) Flush(ctx);
    return dfs::Status::Ok();
  }
  dfs::Status Cleanup(dfs::mr::Context& ctx) override {
    Flush(ctx);
    return dfs::Status::Ok();
  }

 private:
  static constexpr size_t kMaxWords = 200'000;  // bounds the mapper's memory
  void Flush(dfs::mr::Context& ctx) {
    for (const auto& [word, count] : counts_) ctx.Emit(word, std::to_string(count));
    counts_.clear();
  }
  std::unordered_map<std::string, int64_t, Hash, std::equal_to<>> counts_;
};

// Reducer and combiner: sums the counts of a word.
class SumReducer : public dfs::mr::Reducer {
 public:
  dfs::Status Reduce(std::string_view key, dfs::mr::Values& values,
                     dfs::mr::Context& ctx) override {
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
