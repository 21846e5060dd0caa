// grep: counts the lines matching a regular expression (ECMAScript syntax), like
// Hadoop's grep example; the output is "match<TAB>count" for every distinct match.
//   mr submit --binary build/bin/grep --param pattern='dfs[a-z.]+' --input /in --output /out
#include <charconv>
#include <regex>

#include "mapreduce/job.h"

namespace {

class GrepMapper : public dfs::mr::Mapper {
 public:
  dfs::Status Setup(dfs::mr::Context& ctx) override {
    std::string p = ctx.Param("pattern");
    if (p.empty()) return dfs::InvalidArgument("grep needs --param pattern=REGEX");
    try {
      re_ = std::regex(p);
    } catch (const std::regex_error& e) {
      return dfs::InvalidArgument("bad pattern '" + p + "': " + e.what());
    }
    return dfs::Status::Ok();
  }
  dfs::Status Map(uint64_t, std::string_view line, dfs::mr::Context& ctx) override {
    for (std::cregex_iterator it(line.data(), line.data() + line.size(), re_), end; it != end;
         ++it) {
      ctx.Emit(it->str(), "1");
    }
    return dfs::Status::Ok();
  }

 private:
  std::regex re_;
};

class SumReducer : public dfs::mr::Reducer {
 public:
  dfs::Status Reduce(std::string_view key, dfs::mr::Values& values,
                     dfs::mr::Context& ctx) override {
    int64_t sum = 0;
    std::string_view v;
    while (values.Next(&v)) {
      int64_t n = 0;
      std::from_chars(v.data(), v.data() + v.size(), n);
      sum += n;
    }
    ctx.Emit(key, std::to_string(sum));
    return dfs::Status::Ok();
  }
};

}  // namespace

int main(int argc, char** argv) {
  dfs::mr::Job job;
  job.mapper = [] { return std::make_unique<GrepMapper>(); };
  job.reducer = [] { return std::make_unique<SumReducer>(); };
  job.combiner = job.reducer;
  return dfs::mr::RunJob(argc, argv, job);
}
