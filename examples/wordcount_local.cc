// wordcount-local: the single-machine baseline for the word count benchmark. Counts the
// words of a local file (same rule as examples/wordcount: runs of non-whitespace bytes) in
// one process with large reads and one hash table, and prints the top words and the speed.
//   wordcount-local FILE [TOP]
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

// Lets the table be searched with a string_view, so a word costs no allocation.
struct Hash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: wordcount-local FILE [TOP]\n");
    return 2;
  }
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) {
    perror(argv[1]);
    return 1;
  }
  auto start = std::chrono::steady_clock::now();
  std::unordered_map<std::string, int64_t, Hash, std::equal_to<>> counts;
  auto add = [&counts](std::string_view w) {
    auto it = counts.find(w);
    if (it != counts.end())
      ++it->second;
    else
      counts.emplace(std::string(w), 1);
  };
  counts.reserve(1 << 20);
  std::vector<char> buf(8 << 20);
  std::string word;  // a word cut by a read boundary
  uint64_t total = 0;
  auto space = [](char c) {
    return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
  };
  ssize_t n;
  while ((n = read(fd, buf.data(), buf.size())) > 0) {
    total += static_cast<uint64_t>(n);
    const char* p = buf.data();
    const char* end = p + n;
    while (p < end) {
      if (space(*p)) {
        if (!word.empty()) {
          add(word);
          word.clear();
        }
        ++p;
        continue;
      }
      const char* s = p;
      while (p < end && !space(*p)) ++p;
      if (word.empty() && p < end) {
        add(std::string_view(s, static_cast<size_t>(p - s)));
      } else {
        word.append(s, static_cast<size_t>(p - s));
      }
    }
  }
  if (!word.empty()) add(word);
  close(fd);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  size_t top = argc > 2 ? static_cast<size_t>(atoi(argv[2])) : 10;
  std::vector<std::pair<std::string, int64_t>> v(counts.begin(), counts.end());
  std::partial_sort(v.begin(), v.begin() + std::min(top, v.size()), v.end(),
                    [](const auto& a, const auto& b) { return a.second > b.second; });
  for (size_t i = 0; i < std::min(top, v.size()); ++i)
    printf("%s\t%lld\n", v[i].first.c_str(), (long long)v[i].second);
  fprintf(stderr, "%llu bytes, %zu distinct words in %.2f s: %.1f MB/s\n",
          (unsigned long long)total, counts.size(), secs, static_cast<double>(total) / 1e6 / secs);
  return 0;
}
