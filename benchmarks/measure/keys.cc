#include "benchmarks/measure/keys.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <string>

namespace bench {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

class Md5Hasher {
 public:
  Md5Hasher() : context_(EVP_MD_CTX_new(), &EVP_MD_CTX_free), md5_(EVP_md5()) {
    if (!context_) throw std::runtime_error("EVP_MD_CTX_new failed");
  }
  Md5Key operator()(std::uint64_t i) {
    unsigned char le[8];
    for (int b = 0; b < 8; ++b) le[b] = static_cast<unsigned char>(i >> (8 * b));
    Md5Key key;
    unsigned int length = 0;
    if (EVP_DigestInit_ex(context_.get(), md5_, nullptr) != 1 || EVP_DigestUpdate(context_.get(), le, sizeof le) != 1 ||
        EVP_DigestFinal_ex(context_.get(), key.bytes, &length) != 1 || length != sizeof key.bytes)
      throw std::runtime_error("MD5 digest failed");
    return key;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> context_;
  const EVP_MD* md5_;
};

}  // namespace

Md5Key md5_of_index(std::uint64_t i) { return Md5Hasher{}(i); }

int create_key_file(std::uint64_t count) {
  const int fd = ::memfd_create("bench-keys", MFD_CLOEXEC);  // children get a dup2 copy on a fixed number
  if (fd < 0) fail("memfd_create");
  const std::size_t bytes = count * sizeof(Md5Key);
  if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0) fail("ftruncate of the key file");
  void* map = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) fail("mmap of the key file");
  auto* keys = static_cast<Md5Key*>(map);
  Md5Hasher hash;
  for (std::uint64_t i = 0; i < count; ++i) keys[i] = hash(i);
  ::munmap(map, bytes);  // the parent keeps only the descriptor: its own footprint stays small
  return fd;
}

std::span<const Md5Key> map_key_file(int fd, std::uint64_t count) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail("fstat of the key file (descriptor " + std::to_string(fd) + ")");
  const std::size_t bytes = count * sizeof(Md5Key);
  if (static_cast<std::uint64_t>(st.st_size) < bytes)
    throw std::runtime_error("key file holds " + std::to_string(st.st_size / 16) + " keys, " + std::to_string(count) + " needed");
  void* map = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (map == MAP_FAILED) fail("mmap of the key file");
  return {static_cast<const Md5Key*>(map), count};
}

}  // namespace bench
