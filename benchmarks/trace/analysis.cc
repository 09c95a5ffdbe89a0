#include "benchmarks/trace/analysis.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <queue>
#include <tuple>
#include <unordered_map>

#include "benchmarks/interposer/heap_map.h"
#include "benchmarks/trace/reader.h"

namespace bench::trace {
namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

struct Moment {
  std::int64_t time;
  std::string name;
  std::vector<std::uint64_t> pages;                       // resident, sorted
  std::unordered_map<std::uint64_t, std::uint32_t> live;  // page -> live bytes (at most a page)
  std::uint64_t live_bytes = 0, live_blocks = 0;
  std::map<std::uint32_t, std::pair<double, double>> site_pinned;  // site -> bytes pinned, blocks
};

struct Block {
  std::int64_t since;
  std::uint64_t bytes;
  std::uint32_t site;
  std::uint32_t thread = 0;    // the allocating thread's
  bool replaced_live = false;  // allocated where another block was still live (its free not yet seen)
};

// Both passes: the blocks' lives, each handed to `close` as [since, until) once it ends.
class Lives : public TraceVisitor {
 public:
  template <class Close>
  explicit Lives(Close close) : close_(std::move(close)) {}
  std::uint64_t unknown_frees = 0, reused_live = 0;
  std::unordered_map<std::uint64_t, std::int64_t> first_in_granule;  // granule -> earliest allocation

  // The writer holds each thread's events to a flush, and writes them thread by thread: a period's
  // blocks (one pass value, format.h) are taken together, in time order, so that one thread's free is
  // seen before another thread's reuse of the address and after its allocation.
  void events(std::uint32_t, const std::vector<Event>& events, std::int64_t pass) override {
    if (pass != period_pass_) settle();
    period_pass_ = pass;
    period_.insert(period_.end(), events.begin(), events.end());
  }

  void finish() {
    settle();
    for (const auto& [address, block] : live_) close_(address, block, kNever);
    live_.clear();
  }

 private:
  // Each thread's events in its own order, the threads merged by time. Times are ticks of
  // 2^kTickShift TSC cycles (format.h), so two threads' events can share one: at a tie an allocation
  // goes before another thread's free, so that a block handed to another thread and freed there within
  // a tick is freed after its allocation (the reverse tie, a free and another thread's reuse of the
  // address, is resolved in take()).
  void settle() {
    std::stable_sort(period_.begin(), period_.end(), [](const Event& a, const Event& b) { return a.thread < b.thread; });
    using Head = std::tuple<std::int64_t, int, std::size_t, std::size_t>;  // time, a free?, next, end of the thread's run
    std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
    auto push = [&](std::size_t at, std::size_t end) {
      if (at < end) heads.emplace(period_[at].time_ns, is_free(period_[at].kind) ? 1 : 0, at, end);
    };
    for (std::size_t begin = 0, end; begin < period_.size(); begin = end) {
      for (end = begin + 1; end < period_.size() && period_[end].thread == period_[begin].thread;) ++end;
      push(begin, end);
    }
    merged_.clear();
    while (!heads.empty()) {
      const auto [time, free, at, end] = heads.top();
      heads.pop();
      merged_.push_back(period_[at]);
      push(at + 1, end);
    }
    take(merged_);
    period_.clear();
  }

  void take(const std::vector<Event>& events) {
    for (const Event& e : events) {
      if (is_allocation(e.kind)) {
        auto [it, added] = live_.try_emplace(e.address, Block{e.time_ns, e.size + e.slack, e.site, e.thread});
        if (!added) {  // still live here: its free (another thread's) is later in the file
          ++reused_live;
          close_(e.address, it->second, e.time_ns);
          it->second = Block{e.time_ns, e.size + e.slack, e.site, e.thread, true};
        }
        const std::uint64_t last = (e.address + std::max<std::uint64_t>(e.size + e.slack, 1) - 1) / heap_map::kGranuleBytes;
        for (std::uint64_t g = e.address / heap_map::kGranuleBytes; g <= last; ++g) {
          auto [at, fresh] = first_in_granule.try_emplace(g, e.time_ns);
          if (!fresh) at->second = std::min(at->second, e.time_ns);
        }
      } else if (is_free(e.kind)) {
        const auto it = live_.find(e.address);
        if (it == live_.end()) {
          ++unknown_frees;
        } else if (it->second.since > e.time_ns) {  // the free of a block an allocation above already ended
        } else if (it->second.since == e.time_ns && it->second.replaced_live && it->second.thread != e.thread) {
          --reused_live;  // the free of the block this one replaced, in the same tick (settle()): no anomaly
          it->second.replaced_live = false;
        } else {
          close_(e.address, it->second, e.time_ns);
          live_.erase(it);
        }
      }
    }
  }

  std::vector<Event> period_, merged_;
  std::int64_t period_pass_ = -1;
  std::function<void(std::uint64_t, const Block&, std::int64_t)> close_;
  std::unordered_map<std::uint64_t, Block> live_;
};

class Snapshots : public TraceVisitor {
 public:
  std::vector<Moment> moments;
  std::map<std::uint32_t, Site> sites;
  std::vector<Mapping> mappings;
  void residency(const Residency& r) override {
    if (r.moment == "timer") return;
    moments.push_back({r.time_ns, r.moment, r.pages, {}, 0, 0, {}});
  }
  void site(std::uint32_t index, const Site& s) override { sites[index] = s; }
  void maps(const std::vector<Mapping>& m) override { mappings = m; }
};

// A return address as "<object path>+0x<offset from its load address>", as the heap map writes it.
std::string frame_text(std::uint64_t address, const std::vector<Mapping>& maps) {
  for (const Mapping& m : maps) {
    if (address < m.start || address >= m.end || m.path.empty()) continue;
    std::uint64_t base = m.start - m.offset;
    for (const Mapping& first : maps)
      if (first.path == m.path && first.offset == 0) {
        base = first.start;
        break;
      }
    char hex[32];
    std::snprintf(hex, sizeof hex, "+0x%llx", static_cast<unsigned long long>(address - base));
    return m.path + hex;
  }
  char hex[32];
  std::snprintf(hex, sizeof hex, "?+0x%llx", static_cast<unsigned long long>(address));
  return hex;
}

}  // namespace

TraceAnalysis analyse_recording(const std::string& directory) {
  TraceAnalysis analysis;
  std::map<std::string, std::map<std::string, double>> totals;  // moment -> field -> sum
  std::map<std::string, std::map<std::vector<std::string>, HeapMapSite>> merged;
  std::vector<std::string> order;
  std::uint64_t unknown = 0, reused = 0;
  for (const std::string& path : trace_files(directory)) {
    const TraceFile trace(path);
    if (!trace.warning().empty()) analysis.warnings.push_back(path + ": " + trace.warning());
    Snapshots snapshots;
    trace.read(snapshots);
    std::vector<Moment>& moments = snapshots.moments;
    std::sort(moments.begin(), moments.end(), [](const Moment& a, const Moment& b) { return a.time < b.time; });
    auto spanned = [&](const Block& b, std::int64_t until, auto&& each) {
      for (Moment& m : moments)
        if (b.since <= m.time && m.time < until) each(m);
    };
    auto pages_of = [](std::uint64_t address, const Block& b, auto&& each) {
      const std::uint64_t first = address / kPage, last = (address + std::max<std::uint64_t>(b.bytes, 1) - 1) / kPage;
      for (std::uint64_t page = first; page <= last; ++page) {
        const std::uint64_t from = std::max(address, page * kPage), to = std::min(address + b.bytes, (page + 1) * kPage);
        each(page, to > from ? to - from : 0);
      }
    };
    // Pass 1: each moment's live bytes per page.
    Lives first([&](std::uint64_t address, const Block& b, std::int64_t until) {
      spanned(b, until, [&](Moment& m) {
        m.live_bytes += b.bytes;
        ++m.live_blocks;
        pages_of(address, b, [&](std::uint64_t page, std::uint64_t bytes) {
          std::uint32_t& live = m.live[page];
          live = static_cast<std::uint32_t>(std::min<std::uint64_t>(kPage, live + bytes));
          if (live == 0) live = 1;  // a zero-size block still touches its page
        });
      });
    });
    trace.read(first);
    first.finish();
    unknown += first.unknown_frees;
    reused += first.reused_live;
    // Pass 2: the sites of the blocks on each moment's pinned pages.
    const auto pinned_below = static_cast<std::uint32_t>(kPage * heap_map::kPinnedShare);
    Lives second([&](std::uint64_t address, const Block& b, std::int64_t until) {
      spanned(b, until, [&](Moment& m) {
        bool counted = false;
        pages_of(address, b, [&](std::uint64_t page, std::uint64_t bytes) {
          const auto it = m.live.find(page);
          if (it == m.live.end() || it->second >= pinned_below || !std::binary_search(m.pages.begin(), m.pages.end(), page)) return;
          auto& [pinned, blocks] = m.site_pinned[b.site];
          pinned += static_cast<double>(kPage) * static_cast<double>(bytes) / static_cast<double>(it->second);
          if (!counted) blocks += 1;
          counted = true;
        });
      });
    });
    trace.read(second);
    second.finish();
    // The classes, by the heap map's rules.
    for (const Moment& m : moments) {
      double free = 0, pinned = 0, used = 0, outside = 0;
      for (std::uint64_t page : m.pages) {
        const auto it = m.live.find(page);
        if (it != m.live.end()) {
          (it->second >= pinned_below ? used : pinned) += kPage;
        } else {
          const auto granule = first.first_in_granule.find(page * kPage / heap_map::kGranuleBytes);
          (granule != first.first_in_granule.end() && granule->second <= m.time ? free : outside) += kPage;
        }
      }
      if (std::find(order.begin(), order.end(), m.name) == order.end()) order.push_back(m.name);
      std::map<std::string, double>& t = totals[m.name];
      t["free"] += free;
      t["pinned"] += pinned;
      t["used"] += used;
      t["outside"] += outside;
      t["live"] += static_cast<double>(m.live_bytes);
      t["live_blocks"] += static_cast<double>(m.live_blocks);
      t["processes"] += 1;
      for (const auto& [site, figures] : m.site_pinned) {
        std::vector<std::string> frames;
        const auto s = snapshots.sites.find(site);
        if (s != snapshots.sites.end())
          for (std::uint32_t f = 0; f < s->second.depth; ++f)
            frames.push_back(symbolize_frame(frame_text(s->second.frames[f], snapshots.mappings)));
        HeapMapSite& into = merged[m.name][frames];
        into.frames = frames;
        into.bytes += figures.first;
        into.blocks += figures.second;
      }
    }
  }
  for (const std::string& m : order) {
    for (const char* field : {"free", "pinned", "used", "outside", "live"})
      analysis.counters.push_back({"trace_" + m + "_" + field, totals[m][field], Unit::bytes});
    analysis.counters.push_back({"trace_" + m + "_live_blocks", totals[m]["live_blocks"], Unit::count});
    HeapMapMoment moment{m, static_cast<int>(totals[m]["processes"]), {}};
    for (auto& [frames, site] : merged[m]) moment.sites.push_back(site);
    std::sort(moment.sites.begin(), moment.sites.end(), [](const HeapMapSite& a, const HeapMapSite& b) { return a.bytes > b.bytes; });
    if (moment.sites.size() > 20) moment.sites.resize(20);
    analysis.moments.push_back(std::move(moment));
  }
  analysis.counters.push_back({"trace_unknown_frees", static_cast<double>(unknown), Unit::count});
  analysis.counters.push_back({"trace_reused_live", static_cast<double>(reused), Unit::count});
  return analysis;
}

}  // namespace bench::trace
