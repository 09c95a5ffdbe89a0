#include "benchmarks/child.h"

#include <cstdlib>
#include <exception>
#include <string>

#include "benchmarks/child_report.h"
#include "benchmarks/served_by.h"
#include "benchmarks/units.h"
#include "benchmarks/workload.h"

namespace bench {
namespace {

// In a sanitizer build, ASan's runtime is the only allocator a process can have: accepted for the
// configurations that preload nothing, and said so in the row's label.
bool served_by_address_sanitizer(const MallocLibrary& library, const ServedBy& served) {
  return kAddressSanitizerBuild && !library.preloaded && served.malloc_library.find("libasan") != std::string::npos &&
         served.new_library.find("libasan") != std::string::npos;
}

}  // namespace

int child_main(int argc, char** argv) {
  ChildReport report(kChildResultFd);
  report.ready(monotonic_ns());
  try {
    if (argc != 6) throw std::runtime_error("child expects: --child <workload> <configuration> <size> <settle-ns>");
    const bool probe = std::string_view(argv[2]) == "probe";  // verify and describe, measure nothing
    const Workload* workload = find_workload(argv[2]);
    const Configuration* configuration = find_configuration(argv[3]);
    if (workload == nullptr && !probe) throw std::runtime_error(std::string("unknown workload ") + argv[2]);
    if (configuration == nullptr) throw std::runtime_error(std::string("unknown configuration ") + argv[3]);
    const std::uint64_t size = parse_size(argv[4]);
    const Nanoseconds settle{std::stoll(argv[5])};

    // Verify before measuring: a row must never be labelled with an allocator that did not serve it.
    const ServedBy served = find_served_by();
    std::string note;
    if (const std::string problem = check_served_by(*configuration->library, served); !problem.empty()) {
      if (!served_by_address_sanitizer(*configuration->library, served)) {
        report.error(problem);
        return 3;
      }
      note = " (AddressSanitizer build: ASan's allocator serves this process; figures are not the configuration's)";
    }
    report.label("malloc=" + served.malloc_library + " new=" + served.new_library +
                 " version=" + configuration->library->version() + note);
    configuration->library->report_options(report);
    if (probe) {
      report.done();
      return 0;
    }
    if (configuration->setup != nullptr) configuration->setup();

    const auto keys = map_key_file(kChildKeyFd, size);
    WorkloadContext context{*configuration, size, keys, settle, report};
    workload->run(context);
    report.done();
    return 0;
  } catch (const std::exception& e) {
    report.error(e.what());
    return 1;
  }
}

}  // namespace bench
