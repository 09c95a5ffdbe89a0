#include "benchmarks/trace/reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <tuple>

namespace bench::trace {
namespace {

struct Fd {
  int fd;
  explicit Fd(const std::string& path) : fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool read_at(int fd, void* buffer, std::size_t size, std::uint64_t offset) {
  auto* at = static_cast<char*>(buffer);
  while (size > 0) {
    const ssize_t n = ::pread(fd, at, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    at += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

std::map<std::string, std::string> key_values(std::string_view text) {
  std::map<std::string, std::string> fields;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    const std::size_t space = line.find(' ');
    if (space == std::string::npos) continue;
    fields[line.substr(0, space)] = line.substr(space + 1);
  }
  return fields;
}

std::vector<Mapping> parse_maps(std::string_view text) {
  std::vector<Mapping> mappings;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    unsigned long long start = 0, end = 0, offset = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx %*s %llx", &start, &end, &offset) != 3) continue;
    const std::size_t slash = line.find('/');
    mappings.push_back({start, end, offset, slash == std::string::npos ? std::string() : line.substr(slash)});
  }
  return mappings;
}

}  // namespace

TraceFile::TraceFile(std::string path) : path_(std::move(path)) {
  const Fd file(path_);
  if (file.fd < 0) throw TraceError(path_ + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  ::fstat(file.fd, &st);
  size_ = static_cast<std::uint64_t>(st.st_size);
  char magic[8];
  std::uint32_t fixed[3];
  if (!read_at(file.fd, magic, 8, 0) || std::memcmp(magic, kFileMagic, 8) != 0)
    throw TraceError(path_ + ": offset 0: not a trace of this suite (no \"BNCHTRC\" magic)");
  if (!read_at(file.fd, fixed, sizeof fixed, 8)) throw TraceError(path_ + ": offset 8: the file header is cut short");
  if (fixed[0] != kFileVersion)
    throw TraceError(path_ + ": offset 8: trace format version " + std::to_string(fixed[0]) + ", this build reads version " +
                     std::to_string(kFileVersion));
  std::string text(fixed[1], '\0');
  if (fixed[1] > (1u << 20) || !read_at(file.fd, text.data(), text.size(), 20))
    throw TraceError(path_ + ": offset 20: the file header is cut short");
  if (crc32(text.data(), text.size()) != fixed[2]) throw TraceError(path_ + ": offset 20: the file header's checksum does not match");
  header_ = key_values(text);
  start_tsc_ = std::stoull(header_value("start_tsc").empty() ? "0" : header_value("start_tsc"));
  start_ns_ = std::stoll(header_value("start_monotonic_ns").empty() ? "0" : header_value("start_monotonic_ns"));

  // Every block, checked; the clock pairs read on the way.
  std::vector<std::pair<std::uint64_t, std::int64_t>> clock;
  std::uint64_t offset = 20 + fixed[1];
  std::string stored;
  while (offset < size_) {
    BlockHeader header{};
    if (offset + sizeof header > size_ || !read_at(file.fd, &header, sizeof header, offset)) {
      warning_ = "the recording stops at offset " + std::to_string(offset) +
                 ": its last block is cut short (the recording was cut while it was written); the " + std::to_string(blocks_.size()) +
                 " blocks before it are read";
      break;
    }
    if (header.magic != kBlockMagic || header.type < 1 || header.type > 8 || header.compression > 1 || header.zero != 0)
      throw TraceError(path_ + ": offset " + std::to_string(offset) + ": no block starts here (a torn or foreign block)");
    if (offset + sizeof header + header.stored_bytes > size_) {
      warning_ = "the recording stops at offset " + std::to_string(offset) +
                 ": its last block is cut short (the recording was cut while it was written); the " + std::to_string(blocks_.size()) +
                 " blocks before it are read";
      break;
    }
    stored.resize(header.stored_bytes);
    if (!read_at(file.fd, stored.data(), stored.size(), offset + sizeof header))
      throw TraceError(path_ + ": offset " + std::to_string(offset) + ": cannot read the block");
    if (block_crc(header, stored.data(), stored.size()) != header.crc)
      throw TraceError(path_ + ": offset " + std::to_string(offset) + ": the block's checksum does not match (a torn block)");
    blocks_.push_back({offset, header});
    const auto type = static_cast<BlockType>(header.type);
    if (type == BlockType::end) ended_ = true;
    if (type == BlockType::clock) {
      Cursor c{payload(blocks_.back())};
      std::uint64_t best_tsc = 0, previous_tsc = 0;
      std::int64_t best_ns = 0;
      std::uint64_t best_gap = UINT64_MAX;
      while (!c.done() && !c.bad) {
        const std::uint64_t tsc = c.u64();
        const auto ns = static_cast<std::int64_t>(c.u64());
        if (previous_tsc != 0 && tsc - previous_tsc < best_gap) {  // the pair read fastest after the one before it
          best_gap = tsc - previous_tsc;
          best_tsc = tsc;
          best_ns = ns;
        }
        previous_tsc = tsc;
      }
      if (best_tsc != 0) clock.emplace_back(best_tsc, best_ns);
    }
    offset += sizeof header + header.stored_bytes;
  }
  if (warning_.empty() && !ended_)
    warning_ = "the recording stops at offset " + std::to_string(offset) + " without its end block (the process or the writer was killed)";
  // Ticks to nanoseconds: the calibration pairs furthest apart.
  if (clock.size() >= 2 && clock.back().first > clock.front().first)
    ns_per_tick_ =
        static_cast<double>(clock.back().second - clock.front().second) / static_cast<double>(clock.back().first - clock.front().first);
  else if (!clock.empty() && clock.front().first > start_tsc_)
    ns_per_tick_ = static_cast<double>(clock.front().second - start_ns_) / static_cast<double>(clock.front().first - start_tsc_);
  if (!(ns_per_tick_ > 0)) ns_per_tick_ = 1.0;
  if (!clock.empty()) {  // anchored on the best pair, not on the start read by the process itself
    start_tsc_ = clock.front().first;
    start_ns_ = clock.front().second;
  }
}

std::string TraceFile::header_value(const std::string& key) const {
  const auto it = header_.find(key);
  return it == header_.end() ? std::string() : it->second;
}

int TraceFile::pid() const { return std::atoi(header_value("pid").c_str()); }
int TraceFile::parent() const { return std::atoi(header_value("parent").c_str()); }
int TraceFile::image() const { return std::atoi(header_value("image").c_str()); }

std::int64_t TraceFile::time_of(std::uint64_t tsc) const {
  return start_ns_ + static_cast<std::int64_t>((static_cast<double>(tsc) - static_cast<double>(start_tsc_)) * ns_per_tick_);
}

std::string TraceFile::payload(const Block& block) const {
  const Fd file(path_);
  std::string stored(block.header.stored_bytes, '\0');
  if (file.fd < 0 || !read_at(file.fd, stored.data(), stored.size(), block.offset + sizeof(BlockHeader)))
    throw TraceError(path_ + ": offset " + std::to_string(block.offset) + ": cannot read the block");
  if (block.header.compression == 0) return stored;
  std::string raw(block.header.raw_bytes, '\0');
  const std::size_t n = ZSTD_decompress(raw.data(), raw.size(), stored.data(), stored.size());
  if (ZSTD_isError(n) || n != raw.size())
    throw TraceError(path_ + ": offset " + std::to_string(block.offset) + ": the block does not decompress to its length");
  return raw;
}

void TraceFile::read(TraceVisitor& visitor) const {
  if (std::atoi(header_value("tick_shift").c_str()) != kTickShift)
    throw TraceError(path_ + ": offset 0: the trace counts time in units of 2^" + header_value("tick_shift") + " ticks, this build in 2^" +
                     std::to_string(kTickShift));
  std::vector<Event> events;
  EventCodec codec;  // the image's decoding state: blocks are read in file order
  const std::uint64_t start_tsc = std::stoull(header_value("start_tsc"));
  for (const Block& block : blocks_) {
    const std::string raw = payload(block);
    Cursor c{raw};
    auto broken = [&](const char* what) {
      return TraceError(path_ + ": offset " + std::to_string(block.offset) + ": a " + what + " block that does not decode");
    };
    switch (static_cast<BlockType>(block.header.type)) {
      case BlockType::events: {
        const auto thread = static_cast<std::uint32_t>(c.varint());
        c.varint();  // thread_seq
        c.varint();  // first event number
        const std::uint64_t count = c.varint();
        const auto pass_ns = static_cast<std::int64_t>(c.varint());
        if (c.bad || count > kEventsABlock) throw broken("events");
        events.clear();
        // The writer's deltas start from the start_tsc the process read (the header's).
        if (!codec.decode_block(c, count, start_tsc, events)) throw broken("events");
        for (Event& e : events) {
          e.thread = thread;
          e.time_ns = time_of(static_cast<std::uint64_t>(e.time_ns));
        }
        if (c.bad) throw broken("events");
        visitor.events(thread, events, pass_ns);
        break;
      }
      case BlockType::sites: {
        std::uint32_t index = static_cast<std::uint32_t>(c.varint());
        const std::uint64_t count = c.varint();
        for (std::uint64_t i = 0; i < count && !c.bad; ++i, ++index) {
          Site site{};
          site.depth = static_cast<std::uint32_t>(std::min<std::uint64_t>(c.varint(), kSiteFrames));
          for (std::uint32_t f = 0; f < site.depth; ++f) site.frames[f] = c.u64();
          visitor.site(index, site);
        }
        if (c.bad) throw broken("sites");
        break;
      }
      case BlockType::maps: {
        c.u64();
        visitor.maps(parse_maps(std::string_view(raw).substr(std::min<std::size_t>(8, raw.size()))));
        break;
      }
      case BlockType::names: {
        std::uint32_t offset = static_cast<std::uint32_t>(c.varint());
        const std::string_view rest = std::string_view(raw).substr(std::min(c.at, raw.size()));
        for (std::size_t at = 0; at < rest.size();) {
          const std::size_t nul = rest.find('\0', at);
          const std::string_view name = rest.substr(at, (nul == std::string_view::npos ? rest.size() : nul) - at);
          visitor.name(offset + static_cast<std::uint32_t>(at), name);
          at += name.size() + 1;
        }
        break;
      }
      case BlockType::phase: {
        const auto ns = static_cast<std::int64_t>(c.u64());
        visitor.phase(ns, std::string_view(raw).substr(std::min<std::size_t>(8, raw.size())));
        break;
      }
      case BlockType::residency: {
        Residency snapshot;
        snapshot.time_ns = static_cast<std::int64_t>(c.u64());
        snapshot.moment = std::string(c.take(c.varint()));
        const std::uint64_t ranges = c.varint();
        for (std::uint64_t r = 0; r < ranges && !c.bad; ++r) {
          const std::uint64_t first = c.varint(), pages = c.varint();
          const std::string_view bits = c.take((pages + 7) / 8);
          for (std::uint64_t p = 0; p < pages && !c.bad; ++p)
            if ((static_cast<unsigned char>(bits[p / 8]) >> (p % 8)) & 1) snapshot.pages.push_back(first + p);
        }
        if (c.bad) throw broken("residency");
        visitor.residency(snapshot);
        break;
      }
      case BlockType::clock: break;
      case BlockType::end: visitor.end(key_values(raw)); break;
    }
  }
}

std::vector<std::string> trace_files(const std::string& directory) {
  std::vector<std::tuple<long, long, std::string>> found;
  if (DIR* dir = ::opendir(directory.c_str())) {
    while (const dirent* entry = ::readdir(dir)) {
      const std::string name = entry->d_name;
      if (name.size() > 6 && name.compare(name.size() - 6, 6, ".trace") == 0)
        found.emplace_back(std::atol(name.c_str()), std::atol(name.c_str() + name.find('.') + 1), directory + "/" + name);
    }
    ::closedir(dir);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  for (auto& [pid, image, path] : found) paths.push_back(path);
  return paths;
}

}  // namespace bench::trace
