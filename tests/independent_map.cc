// An independent measurement of the seed's workload, for checking ./bench's glibc figures: a plain
// program (no harness, no child protocol, no key table) that hashes each key as it inserts it, as the
// seed did, and reads RSS from /proc/self/status (VmRSS) instead of statm.
// Prints: growth_bytes=<peak - base> retained_bytes=<after clear - base>
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>

namespace {

long vm_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      long kib = 0;
      status >> kib;
      return kib * 1024;
    }
    status.ignore(1 << 20, '\n');
  }
  return -1;
}

using Key = std::array<unsigned char, 16>;
struct Less {
  bool operator()(const Key& a, const Key& b) const { return std::memcmp(a.data(), b.data(), 16) < 0; }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s N\n", argv[0]);
    return 2;
  }
  const std::uint64_t n = std::strtoull(argv[1], nullptr, 10);
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  auto md5 = [&](std::uint64_t i) {
    unsigned char le[8];
    for (int b = 0; b < 8; ++b) le[b] = static_cast<unsigned char>(i >> (8 * b));
    Key key{};
    unsigned int length = 0;
    EVP_DigestInit_ex(context, EVP_md5(), nullptr);
    EVP_DigestUpdate(context, le, sizeof le);
    EVP_DigestFinal_ex(context, key.data(), &length);
    return key;
  };
  std::map<Key, std::uint64_t, Less> map;
  md5(0);  // OpenSSL allocates its provider tables on first use: not part of the map's growth
  const long base = vm_rss_bytes();
  for (std::uint64_t i = 0; i < n; ++i) map.emplace(md5(i), i);
  const long peak = vm_rss_bytes();
  for (std::uint64_t i = 0; i < n; ++i)
    if (map.find(md5(i)) == map.end()) return 1;
  map.clear();
  const long cleared = vm_rss_bytes();
  std::printf("growth_bytes=%ld retained_bytes=%ld\n", peak - base, cleared - base);
  EVP_MD_CTX_free(context);
  return 0;
}
