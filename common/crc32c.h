// CRC32C (Castagnoli), the one checksum routine of the project, computed by ISA-L.
// Blocks are checksummed per 512-byte chunk (kBytesPerChecksum). Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dfs {

inline constexpr uint32_t kBytesPerChecksum = 512;

// CRC32C of data, continuing from `crc` (the value returned for the bytes before).
uint32_t Crc32c(const void* data, size_t len, uint32_t crc = 0);

// Number of chunks covering len bytes.
inline size_t ChunkCount(size_t len) { return (len + kBytesPerChecksum - 1) / kBytesPerChecksum; }

// Writes one CRC per 512-byte chunk of data into crcs (ChunkCount(len) entries).
void ChunkCrcs(const void* data, size_t len, uint32_t* crcs);

// Checks data against per-chunk crcs. Returns the index of the first bad chunk or -1.
long FirstBadChunk(const void* data, size_t len, const uint32_t* crcs);

}  // namespace dfs
