// The seed's keys: key i is MD5 of the 8-byte little-endian encoding of i, for i in [0, N).
//
// Keys live outside the heap under test: the parent hashes them once, for the largest N of the run,
// into a memfd; every child maps that file read-only and pre-faults it before its baseline sample.
// Keys of a smaller N are a prefix of the table, so one table serves every size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace bench {

struct Md5Key {
  unsigned char bytes[16];
};
static_assert(sizeof(Md5Key) == 16);

// The seed orders keys by memcmp.
struct KeyLess {
  bool operator()(const Md5Key& a, const Md5Key& b) const noexcept { return std::memcmp(a.bytes, b.bytes, sizeof a.bytes) < 0; }
};

struct KeyHash {
  std::size_t operator()(const Md5Key& k) const noexcept {
    std::size_t h;  // MD5 output is uniformly distributed: its first 8 bytes are a fine hash.
    std::memcpy(&h, k.bytes, sizeof h);
    return h;
  }
};

struct KeyEqual {
  bool operator()(const Md5Key& a, const Md5Key& b) const noexcept { return std::memcmp(a.bytes, b.bytes, sizeof a.bytes) == 0; }
};

// Computes MD5(i) for one i (libcrypto's EVP interface; the seed used MD5()).
Md5Key md5_of_index(std::uint64_t i);

// Parent side: a memfd holding keys [0, count) (close-on-exec: the launcher hands each child its own
// copy on a fixed descriptor). Throws std::runtime_error on failure.
int create_key_file(std::uint64_t count);

// Child side: maps `count` keys of the file read-only and pre-faults them (MAP_POPULATE), so that
// their pages are resident before the baseline sample. Throws std::runtime_error on failure, including
// a file shorter than count keys.
std::span<const Md5Key> map_key_file(int fd, std::uint64_t count);

}  // namespace bench
