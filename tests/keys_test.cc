// Unit tests of benchmarks/measure/keys.h: the seed's keys, in a table the children share.
#include "benchmarks/measure/keys.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace bench {
namespace {

TEST(Keys, AreMd5OfLittleEndianIndex) {
  // MD5 of eight zero bytes, and of 01 00 00 00 00 00 00 00 (computed with `printf ... | md5sum`).
  const Md5Key zero = md5_of_index(0);
  const unsigned char expected_zero[16] = {0x7d, 0xea, 0x36, 0x2b, 0x3f, 0xac, 0x8e, 0x00, 0x95, 0x6a, 0x49, 0x52, 0xa3, 0xd4, 0xf4, 0x74};
  EXPECT_EQ(std::memcmp(zero.bytes, expected_zero, 16), 0);
  const int fd = create_key_file(1000);
  const auto keys = map_key_file(fd, 1000);
  ASSERT_EQ(keys.size(), 1000u);
  EXPECT_EQ(std::memcmp(keys[0].bytes, zero.bytes, 16), 0);
  const Md5Key k999 = md5_of_index(999);
  EXPECT_EQ(std::memcmp(keys[999].bytes, k999.bytes, 16), 0);
  EXPECT_THROW(map_key_file(fd, 1001), std::runtime_error);
  ::close(fd);
}

}  // namespace
}  // namespace bench
