#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dfs {
namespace {

uint32_t Crc(const std::vector<uint8_t>& v) { return Crc32c(v.data(), v.size()); }

// RFC 3720, appendix B.4.
TEST(Crc32cTest, MatchesRfc3720ThirtyTwoZeros) {
  EXPECT_EQ(Crc(std::vector<uint8_t>(32, 0x00)), 0x8A9136AAu);
}

TEST(Crc32cTest, MatchesRfc3720ThirtyTwoOnes) {
  EXPECT_EQ(Crc(std::vector<uint8_t>(32, 0xFF)), 0x62A8AB43u);
}

TEST(Crc32cTest, MatchesRfc3720IncreasingBytes) {
  std::vector<uint8_t> v(32);
  for (int i = 0; i < 32; ++i) v[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(Crc(v), 0x46DD794Eu);
}

TEST(Crc32cTest, MatchesRfc3720DecreasingBytes) {
  std::vector<uint8_t> v(32);
  for (int i = 0; i < 32; ++i) v[i] = static_cast<uint8_t>(31 - i);
  EXPECT_EQ(Crc(v), 0x113FDB5Cu);
}

TEST(Crc32cTest, MatchesRfc3720IscsiReadCommandPdu) {
  const std::vector<uint8_t> pdu = {0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00,
                                    0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00,
                                    0x00, 0x18, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  ASSERT_EQ(pdu.size(), 48u);
  EXPECT_EQ(Crc(pdu), 0xD9963A56u);
}

TEST(Crc32cTest, MatchesStandardCheckValue) {
  const std::string s = "123456789";
  EXPECT_EQ(Crc32c(s.data(), s.size()), 0xE3069283u);
}

TEST(Crc32cTest, EmptyInputIsZeroAndLeavesRunningCrcUnchanged) {
  EXPECT_EQ(Crc32c("", 0), 0u);
  EXPECT_EQ(Crc32c("", 0, 0xE3069283u), 0xE3069283u);
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (auto& c : s) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 16);
  }
  return s;
}

TEST(Crc32cTest, IncrementalComputationEqualsOneShotAtEverySplit) {
  const std::string data = Pattern(300);
  const uint32_t whole = Crc32c(data.data(), data.size());
  for (size_t split = 0; split <= data.size(); ++split) {
    uint32_t part = Crc32c(data.data(), split);
    part = Crc32c(data.data() + split, data.size() - split, part);
    ASSERT_EQ(part, whole) << "split at " << split;
  }
}

TEST(Crc32cTest, IncrementalComputationInManySmallPiecesEqualsOneShot) {
  const std::string data = Pattern(4099);
  uint32_t crc = 0;
  for (size_t off = 0; off < data.size(); off += 7) {
    crc = Crc32c(data.data() + off, std::min<size_t>(7, data.size() - off), crc);
  }
  EXPECT_EQ(crc, Crc32c(data.data(), data.size()));
}

TEST(Crc32cTest, ChunkCountRoundsUpToWholeChunks) {
  EXPECT_EQ(ChunkCount(0), 0u);
  EXPECT_EQ(ChunkCount(1), 1u);
  EXPECT_EQ(ChunkCount(kBytesPerChecksum), 1u);
  EXPECT_EQ(ChunkCount(kBytesPerChecksum + 1), 2u);
  EXPECT_EQ(ChunkCount(10 * kBytesPerChecksum), 10u);
}

TEST(Crc32cTest, ChunkCrcsCoverEachChunkIncludingAPartialLastOne) {
  const std::string data = Pattern(2 * kBytesPerChecksum + 100);
  std::vector<uint32_t> crcs(ChunkCount(data.size()));
  ASSERT_EQ(crcs.size(), 3u);
  ChunkCrcs(data.data(), data.size(), crcs.data());
  EXPECT_EQ(crcs[0], Crc32c(data.data(), kBytesPerChecksum));
  EXPECT_EQ(crcs[1], Crc32c(data.data() + kBytesPerChecksum, kBytesPerChecksum));
  EXPECT_EQ(crcs[2], Crc32c(data.data() + 2 * kBytesPerChecksum, 100));
}

TEST(Crc32cTest, FirstBadChunkIsMinusOneForIntactData) {
  const std::string data = Pattern(3 * kBytesPerChecksum + 1);
  std::vector<uint32_t> crcs(ChunkCount(data.size()));
  ChunkCrcs(data.data(), data.size(), crcs.data());
  EXPECT_EQ(FirstBadChunk(data.data(), data.size(), crcs.data()), -1);
}

TEST(Crc32cTest, FirstBadChunkFindsTheChunkOfAFlippedByte) {
  const std::string data = Pattern(3 * kBytesPerChecksum + 1);
  std::vector<uint32_t> crcs(ChunkCount(data.size()));
  ChunkCrcs(data.data(), data.size(), crcs.data());
  for (size_t pos : {size_t{0}, size_t{511}, size_t{512}, size_t{1000}, size_t{1535},
                     size_t{3 * kBytesPerChecksum}}) {
    std::string bad = data;
    bad[pos] ^= 0x01;
    EXPECT_EQ(FirstBadChunk(bad.data(), bad.size(), crcs.data()),
              static_cast<long>(pos / kBytesPerChecksum))
        << "flipped byte " << pos;
  }
}

TEST(Crc32cTest, FirstBadChunkReportsTheEarliestOfSeveralBadChunks) {
  const std::string data = Pattern(4 * kBytesPerChecksum);
  std::vector<uint32_t> crcs(ChunkCount(data.size()));
  ChunkCrcs(data.data(), data.size(), crcs.data());
  std::string bad = data;
  bad[3 * kBytesPerChecksum + 5] ^= 0x80;
  bad[1 * kBytesPerChecksum + 7] ^= 0x80;
  EXPECT_EQ(FirstBadChunk(bad.data(), bad.size(), crcs.data()), 1);
}

}  // namespace
}  // namespace dfs
