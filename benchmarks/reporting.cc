#include "benchmarks/reporting.h"

#include <strings.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>
#include <vector>

#include "benchmarks/units.h"

namespace bench {
namespace {

// Passes everything on to Google Benchmark's own reporter `inner`; subclasses change one step.
class ForwardingReporter : public benchmark::BenchmarkReporter {
 public:
  explicit ForwardingReporter(std::unique_ptr<benchmark::BenchmarkReporter> inner) : inner_(std::move(inner)) {}

  bool ReportContext(const Context& context) override {
    // Google Benchmark sets the streams on this object after constructing it; pass them on.
    inner_->SetOutputStream(&GetOutputStream());
    inner_->SetErrorStream(&GetErrorStream());
    return inner_->ReportContext(context);
  }
  void ReportRuns(const std::vector<Run>& runs) override { inner_->ReportRuns(runs); }
  void Finalize() override { inner_->Finalize(); }

 protected:
  std::unique_ptr<benchmark::BenchmarkReporter> inner_;
};

class SuiteNameReporter final : public ForwardingReporter {
 public:
  using ForwardingReporter::ForwardingReporter;
  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> renamed = runs;
    for (Run& run : renamed) {
      run.run_name.iterations.clear();
      run.run_name.time_type.clear();
    }
    inner_->ReportRuns(renamed);
  }
};

// Google Benchmark's CSVReporter fixes its columns at its first ReportRuns call and aborts the
// process on any counter it has not seen (csv_reporter.cc: "All counters must be present in each
// run"), yet configurations report different counters (stat_*, opt_*). So CSV runs are held back and
// reported in one call at the end: one header with every counter, blank where a row has none.
class OneCallReporter final : public ForwardingReporter {
 public:
  using ForwardingReporter::ForwardingReporter;
  void ReportRuns(const std::vector<Run>& runs) override { held_.insert(held_.end(), runs.begin(), runs.end()); }
  void Finalize() override {
    if (!held_.empty()) inner_->ReportRuns(held_);
    inner_->Finalize();
  }

 private:
  std::vector<Run> held_;
};

// Google Benchmark's boolean flag spelling: a bare flag is true; "false", "f", "no", "n", "off", "0"
// (any case) are false, anything else true.
bool truthy(std::string_view value) {
  for (const char* no : {"false", "f", "no", "n", "off", "0"})
    if (value.size() == std::string_view(no).size() && ::strncasecmp(value.data(), no, value.size()) == 0) return false;
  return true;
}

const char* env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : fallback;
}

}  // namespace

ReporterFlags read_reporter_flags(int argc, char** argv) {
  ReporterFlags flags;
  flags.display_format = env_or("BENCHMARK_FORMAT", "console");
  flags.file_format = env_or("BENCHMARK_OUT_FORMAT", "json");
  flags.color = env_or("BENCHMARK_COLOR", "auto");
  flags.tabular = truthy(env_or("BENCHMARK_COUNTERS_TABULAR", "false"));
  flags.list_tests = truthy(env_or("BENCHMARK_LIST_TESTS", "false"));
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    auto value_of = [&](std::string_view flag, std::string* out) {
      if (argument.substr(0, flag.size()) != flag) return false;
      if (argument.size() == flag.size()) *out = "true";
      else if (argument[flag.size()] == '=') *out = std::string(argument.substr(flag.size() + 1));
      else return false;
      return true;
    };
    std::string value;
    if (value_of("--benchmark_format", &value)) flags.display_format = value;
    else if (value_of("--benchmark_out_format", &value)) flags.file_format = value;
    else if (value_of("--benchmark_color", &value)) flags.color = value;
    else if (value_of("--benchmark_counters_tabular", &value)) flags.tabular = truthy(value);
    else if (value_of("--benchmark_list_tests", &value)) flags.list_tests = truthy(value);
  }
  for (const std::string* format : {&flags.display_format, &flags.file_format})
    if (*format != "console" && *format != "json" && *format != "csv")
      throw UsageError("unknown output format '" + *format + "' (expected console, json or csv)");
  return flags;
}

std::unique_ptr<benchmark::BenchmarkReporter> make_reporter(const std::string& format, const ReporterFlags& flags, bool for_file) {
  std::unique_ptr<benchmark::BenchmarkReporter> inner;
  if (format == "json") {
    inner = std::make_unique<benchmark::JSONReporter>();
  } else if (format == "csv") {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"  // still Google Benchmark 1.7's --benchmark_out_format=csv
    inner = std::make_unique<OneCallReporter>(std::make_unique<benchmark::CSVReporter>());
#pragma GCC diagnostic pop
  } else {
    const bool color = !for_file && (flags.color == "auto" ? ::isatty(STDOUT_FILENO) != 0 : truthy(flags.color));
    int options = benchmark::ConsoleReporter::OO_None;
    if (color) options |= benchmark::ConsoleReporter::OO_Color;
    if (flags.tabular) options |= benchmark::ConsoleReporter::OO_Tabular;
    inner = std::make_unique<benchmark::ConsoleReporter>(static_cast<benchmark::ConsoleReporter::OutputOptions>(options));
  }
  return std::make_unique<SuiteNameReporter>(std::move(inner));
}

}  // namespace bench
