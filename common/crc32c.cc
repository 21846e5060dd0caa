#include "common/crc32c.h"

#include <isa-l/crc.h>

namespace dfs {

// ISA-L's crc32_iscsi takes and returns the CRC without the final inversion; the
// standard CRC32C starts from ~0 and inverts at the end.
uint32_t Crc32c(const void* data, size_t len, uint32_t crc) {
  return ~crc32_iscsi(static_cast<unsigned char*>(const_cast<void*>(data)), static_cast<int>(len),
                      ~crc);
}

void ChunkCrcs(const void* data, size_t len, uint32_t* crcs) {
  auto* p = static_cast<const unsigned char*>(data);
  for (size_t off = 0, i = 0; off < len; off += kBytesPerChecksum, ++i) {
    size_t n = len - off < kBytesPerChecksum ? len - off : kBytesPerChecksum;
    crcs[i] = Crc32c(p + off, n);
  }
}

long FirstBadChunk(const void* data, size_t len, const uint32_t* crcs) {
  auto* p = static_cast<const unsigned char*>(data);
  for (size_t off = 0, i = 0; off < len; off += kBytesPerChecksum, ++i) {
    size_t n = len - off < kBytesPerChecksum ? len - off : kBytesPerChecksum;
    if (Crc32c(p + off, n) != crcs[i]) return static_cast<long>(i);
  }
  return -1;
}

}  // namespace dfs
