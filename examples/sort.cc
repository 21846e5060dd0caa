// sort: a TeraSort-like total-order sort of text records, with its tools.
//
//   sort gen --records N --output /in/data [--seed S]      records "KEY<TAB>PAYLOAD", 100 bytes,
//                                                          KEY 10 random printable bytes
//   sort sample --input /in --partitions R --cuts /cuts    R-1 cut keys from a sample
//   mr submit --binary sort --param cuts=/cuts --reducers R --input /in --output /out
//   sort validate --input /in --output /out --partitions R  part files globally sorted,
//                                                          same records as the input
//
// The job's partitioner sends a key to the reducer whose range (between two cut keys)
// holds it, so part-00000 < part-00001 < ... and the concatenation is sorted.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <random>

#include "client/input_stream.h"
#include "client/output_stream.h"
#include "mapreduce/job.h"

namespace {

using dfs::Status;

class SplitMapper : public dfs::mr::Mapper {
 public:
  Status Map(uint64_t, std::string_view line, dfs::mr::Context& ctx) override {
    auto tab = line.find('\t');
    if (tab == std::string_view::npos)
      ctx.Emit(line, "");
    else
      ctx.Emit(line.substr(0, tab), line.substr(tab + 1));
    return Status::Ok();
  }
};

class IdentityReducer : public dfs::mr::Reducer {
 public:
  Status Reduce(std::string_view key, dfs::mr::Values& values, dfs::mr::Context& ctx) override {
    std::string_view v;
    while (values.Next(&v)) ctx.Emit(key, v);
    return Status::Ok();
  }
};

dfs::Result<std::string> ReadAll(dfs::FileSystem* fs, const std::string& path) {
  ASSIGN_OR_RETURN(auto in, fs->Open(path));
  std::string data(in->length(), '\0');
  size_t done = 0;
  while (done < data.size()) {
    ASSIGN_OR_RETURN(size_t n, in->Read(data.data() + done, data.size() - done));
    if (n == 0) break;
    done += n;
  }
  data.resize(done);
  return data;
}

// Cut points from the file named by --param cuts: one key per line, sorted.
class CutPartitioner : public dfs::mr::Partitioner {
 public:
  Status Setup(dfs::mr::Context& ctx) override {
    std::string path = ctx.Param("cuts");
    if (path.empty())
      return dfs::InvalidArgument("sort needs --param cuts=FILE (see: sort sample)");
    ASSIGN_OR_RETURN(std::string text, ReadAll(ctx.fs(), path));
    size_t start = 0, nl;
    while ((nl = text.find('\n', start)) != std::string::npos) {
      cuts_.push_back(text.substr(start, nl - start));
      start = nl + 1;
    }
    if (cuts_.size() + 1 != ctx.task().spec().reducers()) {
      return dfs::InvalidArgument("cuts file " + path + " has " + std::to_string(cuts_.size()) +
                                  " keys for " + std::to_string(ctx.task().spec().reducers()) +
                                  " reducers; it needs reducers-1");
    }
    return Status::Ok();
  }
  uint32_t Partition(std::string_view key, uint32_t partitions) override {
    auto it = std::upper_bound(cuts_.begin(), cuts_.end(), key,
                               [](std::string_view k, const std::string& c) { return k < c; });
    return static_cast<uint32_t>(it - cuts_.begin());
  }

 private:
  std::vector<std::string> cuts_;
};

int Fail(const Status& s) {
  fprintf(stderr, "sort: %s\n", s.message().c_str());
  return 1;
}

std::unique_ptr<dfs::FileSystem> Connect(const std::string& conf_path) {
  auto conf = dfs::LoadClientConfig(conf_path);
  if (!conf.ok()) return nullptr;
  auto fs = dfs::FileSystem::Connect(*conf);
  return fs.ok() ? std::move(*fs) : nullptr;
}

Status Generate(dfs::FileSystem* fs, const std::string& path, uint64_t records, uint64_t seed) {
  ASSIGN_OR_RETURN(auto out, fs->Create(path, dfs::CreateOptions{.overwrite = true}));
  std::mt19937_64 rng(seed);
  std::string buf;
  for (uint64_t i = 0; i < records; ++i) {
    for (int k = 0; k < 10; ++k) buf.push_back(static_cast<char>(' ' + 1 + rng() % 94));
    char payload[96];
    snprintf(payload, sizeof payload, "\t%020llu", static_cast<unsigned long long>(i));
    buf.append(payload);
    buf.append(100 - 10 - 21 - 1, 'a' + static_cast<char>(i % 26));
    buf.push_back('\n');
    if (buf.size() >= (1 << 20)) {
      RETURN_IF_ERROR(out->Write(buf.data(), buf.size()));
      buf.clear();
    }
  }
  RETURN_IF_ERROR(out->Write(buf.data(), buf.size()));
  return out->Close();
}

dfs::Result<std::vector<std::string>> InputFiles(dfs::FileSystem* fs, const std::string& input) {
  ASSIGN_OR_RETURN(auto entries, fs->ListStatus(input));
  std::vector<std::string> files;
  for (const auto& e : entries) {
    std::string name = e.path().substr(e.path().rfind('/') + 1);
    if (e.type() == dfs::proto::FILE && name[0] != '_' && name[0] != '.') files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Keys of the whole lines in [pos, pos+len) of a file.
void KeysOf(const std::string& chunk, bool skip_first, std::vector<std::string>* keys) {
  size_t start = 0;
  if (skip_first)
    start = chunk.find('\n') == std::string::npos ? chunk.size() : chunk.find('\n') + 1;
  size_t nl;
  while ((nl = chunk.find('\n', start)) != std::string::npos) {
    std::string line = chunk.substr(start, nl - start);
    keys->push_back(line.substr(0, line.find('\t')));
    start = nl + 1;
  }
}

Status Sample(dfs::FileSystem* fs, const std::string& input, uint32_t partitions,
              const std::string& cuts_path) {
  if (partitions < 1) return dfs::InvalidArgument("--partitions must be at least 1");
  ASSIGN_OR_RETURN(auto files, InputFiles(fs, input));
  std::vector<std::string> keys;
  for (const auto& f : files) {
    ASSIGN_OR_RETURN(auto in, fs->Open(f));
    uint64_t len = in->length();
    // 20 evenly spaced 64 KiB windows per file.
    for (int i = 0; i < 20; ++i) {
      uint64_t pos = len * static_cast<uint64_t>(i) / 20;
      std::string chunk(64 << 10, '\0');
      ASSIGN_OR_RETURN(size_t n, in->PRead(pos, chunk.data(), chunk.size()));
      chunk.resize(n);
      KeysOf(chunk, pos > 0, &keys);
    }
  }
  if (keys.empty()) return dfs::InvalidArgument("no records under " + input);
  std::sort(keys.begin(), keys.end());
  std::string text;
  for (uint32_t p = 1; p < partitions; ++p) text += keys[keys.size() * p / partitions] + "\n";
  ASSIGN_OR_RETURN(auto out, fs->Create(cuts_path, dfs::CreateOptions{.overwrite = true}));
  RETURN_IF_ERROR(out->Write(text.data(), text.size()));
  return out->Close();
}

// Order-independent digest of a set of lines.
struct Digest {
  uint64_t count = 0, sum = 0;
  void Add(std::string_view line) {
    ++count;
    sum += std::hash<std::string_view>()(line) * 0x9E3779B97F4A7C15ull;
  }
};

Status Validate(dfs::FileSystem* fs, const std::string& input, const std::string& output,
                uint32_t partitions) {
  Digest in_digest, out_digest;
  ASSIGN_OR_RETURN(auto files, InputFiles(fs, input));
  for (const auto& f : files) {
    ASSIGN_OR_RETURN(std::string data, ReadAll(fs, f));
    size_t start = 0, nl;
    while ((nl = data.find('\n', start)) != std::string::npos) {
      in_digest.Add(std::string_view(data).substr(start, nl - start));
      start = nl + 1;
    }
  }
  std::string prev;
  for (uint32_t p = 0; p < partitions; ++p) {
    char name[32];
    snprintf(name, sizeof name, "/part-%05u", p);
    ASSIGN_OR_RETURN(std::string data, ReadAll(fs, output + name));
    size_t start = 0, nl;
    while ((nl = data.find('\n', start)) != std::string::npos) {
      std::string_view line = std::string_view(data).substr(start, nl - start);
      std::string key(line.substr(0, line.find('\t')));
      if (key < prev) {
        return dfs::DataLoss("out of order in " + output + name + ": '" + key + "' after '" + prev +
                             "'");
      }
      prev = key;
      out_digest.Add(line);
      start = nl + 1;
    }
  }
  if (in_digest.count != out_digest.count || in_digest.sum != out_digest.sum) {
    return dfs::DataLoss("output has " + std::to_string(out_digest.count) + " records, input " +
                         std::to_string(in_digest.count) +
                         (in_digest.count == out_digest.count ? ", with different contents" : ""));
  }
  printf("%llu records, globally sorted, same as the input\n",
         static_cast<unsigned long long>(out_digest.count));
  return Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--mr-task") {
      dfs::mr::Job job;
      job.mapper = [] { return std::make_unique<SplitMapper>(); };
      job.reducer = [] { return std::make_unique<IdentityReducer>(); };
      job.partitioner = [] { return std::make_unique<CutPartitioner>(); };
      return dfs::mr::RunJob(argc, argv, job);
    }
  }
  CLI::App app{"sort: total-order sort of text records (a MapReduce job) and its tools"};
  app.require_subcommand(1);
  std::string conf, input, output, cuts;
  uint64_t records = 0, seed = 1;
  uint32_t partitions = 1;
  app.add_option("--conf", conf, "client configuration (default $DFS_CONF)");
  auto* gen = app.add_subcommand("gen", "write N random 100-byte records to a file");
  gen->add_option("--records", records, "how many")->required();
  gen->add_option("--output", output, "file to write")->required();
  gen->add_option("--seed", seed, "random seed")->capture_default_str();
  auto* sample = app.add_subcommand("sample", "choose cut keys for R reducers from a sample");
  sample->add_option("--input", input, "input directory")->required();
  sample->add_option("--partitions", partitions, "number of reducers")->required();
  sample->add_option("--cuts", cuts, "file to write the cut keys to")->required();
  auto* validate = app.add_subcommand("validate", "check the output is sorted and complete");
  validate->add_option("--input", input, "input directory")->required();
  validate->add_option("--output", output, "job output directory")->required();
  validate->add_option("--partitions", partitions, "number of reducers")->required();
  CLI11_PARSE(app, argc, argv);
  auto fs = Connect(conf);
  if (!fs) return Fail(dfs::Unavailable("cannot connect: check --conf or $DFS_CONF"));
  Status st;
  if (*gen) st = Generate(fs.get(), output, records, seed);
  if (*sample) st = Sample(fs.get(), input, partitions, cuts);
  if (*validate) st = Validate(fs.get(), input, output, partitions);
  return st.ok() ? 0 : Fail(st);
}
