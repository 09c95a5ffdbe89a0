#include "benchmarks/driver/reporters.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace bench {
namespace {

using Run = benchmark::BenchmarkReporter::Run;

// The suite's name of a run: Google Benchmark's without the iterations and time-type parts.
void rename(Run& run) {
  run.run_name.iterations.clear();
  run.run_name.time_type.clear();
}

// Passes everything on to another reporter with the suite's names.
class SuiteNameReporter final : public benchmark::BenchmarkReporter {
 public:
  explicit SuiteNameReporter(std::unique_ptr<benchmark::BenchmarkReporter> inner) : inner_(std::move(inner)) {}

  bool ReportContext(const Context& context) override {
    // Google Benchmark sets the streams on this object after constructing it; pass them on.
    inner_->SetOutputStream(&GetOutputStream());
    inner_->SetErrorStream(&GetErrorStream());
    return inner_->ReportContext(context);
  }
  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> renamed = runs;
    std::for_each(renamed.begin(), renamed.end(), rename);
    inner_->ReportRuns(renamed);
  }
  void Finalize() override { inner_->Finalize(); }

 private:
  std::unique_ptr<benchmark::BenchmarkReporter> inner_;
};

// Google Benchmark's CSVReporter fixes its columns at its first ReportRuns call and aborts the
// process on any counter it has not seen (csv_reporter.cc: "All counters must be present in each
// run"), yet configurations report different counters (stat_*, opt_*). So CSV runs are held back and
// reported in one call at the end: one header with every counter, blank where a row has none.
class OneCallCsvReporter final : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context& context) override {
    inner_.SetOutputStream(&GetOutputStream());
    inner_.SetErrorStream(&GetErrorStream());
    return inner_.ReportContext(context);
  }
  void ReportRuns(const std::vector<Run>& runs) override { held_.insert(held_.end(), runs.begin(), runs.end()); }
  void Finalize() override {
    if (!held_.empty()) inner_.ReportRuns(held_);
    inner_.Finalize();
  }

 private:
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"  // still Google Benchmark 1.7's --benchmark_out_format=csv
  benchmark::CSVReporter inner_;
#pragma GCC diagnostic pop
  std::vector<Run> held_;
};

// Google Benchmark's JSON, with the run's description as a section of its own: JSONReporter's
// Finalize only closes the "benchmarks" array and the document (json_reporter.cc), so this one
// closes the array, adds "suite", and closes the document.
class SuiteJsonReporter final : public benchmark::JSONReporter {
 public:
  explicit SuiteJsonReporter(const RunDescription& description) : description_(description) {}
  void Finalize() override {
    std::string suite = description_.json();
    std::string indented;  // two spaces deeper, like Google Benchmark's own sections
    for (char c : suite) {
      indented += c;
      if (c == '\n') indented += "  ";
    }
    GetOutputStream() << "\n  ],\n  \"suite\": " << indented << "\n}\n";
  }

 private:
  const RunDescription& description_;
};

std::string format_value(double value, std::optional<Unit> unit) {
  char text[48];
  if (!unit) {
    std::snprintf(text, sizeof text, "%.4g", value);
    return text;
  }
  switch (*unit) {
    case Unit::bytes: std::snprintf(text, sizeof text, "%.1fMiB", value / (1 << 20)); break;
    case Unit::items_per_second: std::snprintf(text, sizeof text, "%.3fM/s", value / 1e6); break;
    case Unit::seconds:
      if (std::fabs(value) >= 1)
        std::snprintf(text, sizeof text, "%.2fs", value);
      else
        std::snprintf(text, sizeof text, "%.3gms", value * 1e3);
      break;
    case Unit::nanoseconds: std::snprintf(text, sizeof text, "%.0fns", value); break;
    case Unit::percent: std::snprintf(text, sizeof text, "%.1f%%", value); break;
    default: std::snprintf(text, sizeof text, "%.4g", value); break;
  }
  return text;
}

// The few headline figures per row, in aligned columns. RSS counters are shown as the growth
// (rss_peak - rss_base) and, for every other RSS point of the workload's headline, as the share of
// that growth still resident ("kept"): the numbers a reader of this suite looks for first.
class HeadlineConsoleReporter final : public benchmark::BenchmarkReporter {
 public:
  HeadlineConsoleReporter(const RunDescription& description, bool color) : description_(description), color_(color) {}

  bool ReportContext(const Context& context) override {
    std::ostringstream text;
    PrintBasicContext(&text, context);
    GetErrorStream() << text.str();
    // Debian builds libbenchmark without NDEBUG, so Google Benchmark warns on every run; the figures
    // here are timed by the suite's own code in each child, which that build does not touch.
    if (text.str().find("DEBUG") != std::string::npos)
      GetErrorStream() << "(That warning is about Debian's libbenchmark, which only drives this run: every figure is timed by the suite's\n"
                          " own code in each child, built "
                       << BENCH_BUILD_TYPE << ".)\n";
    return true;
  }

  void ReportRuns(const std::vector<Run>& reports) override {
    for (const Run& report : reports) {
      if (report.run_type == Run::RT_Aggregate && report.aggregate_name != "median") continue;
      Run run = report;
      rename(run);
      std::string name = run.benchmark_name();
      if (run.error_occurred) {
        print_line(name, {}, {}, "ERROR OCCURRED: '" + run.error_message + "'");
        continue;
      }
      std::vector<std::pair<std::string, std::string>> cells = cells_of(run);
      std::vector<std::string> headers, values;
      for (auto& [header, value] : cells) {
        headers.push_back(header);
        values.push_back(value);
      }
      print_line(name, headers, values, {});
    }
    GetOutputStream().flush();
  }

 private:
  static constexpr std::size_t kNameWidth = 44;

  std::vector<std::pair<std::string, std::string>> cells_of(const Run& run) const {
    std::vector<std::pair<std::string, std::string>> cells;
    const std::string base_name = run.run_name.str();
    const auto value = [&](const std::string& name) -> std::optional<double> {
      const auto it = run.counters.find(name);
      return it == run.counters.end() ? std::nullopt : std::optional<double>(it->second.value);
    };
    const std::optional<double> base = value("rss_base"), peak = value("rss_peak");
    for (const std::string& counter : description_.headline_of(base_name)) {
      const std::optional<double> v = value(counter);
      if (counter == "rss_base") continue;
      if (!v) {
        if (counter == "clear_rate" && value("clear_seconds"))
          cells.emplace_back("clear", format_value(*value("clear_seconds"), Unit::seconds));
        continue;
      }
      if (counter == "rss_peak" && base) {
        cells.emplace_back("growth", format_value(*v - *base, Unit::bytes));
      } else if (counter.starts_with("rss_") && base && peak && *peak - *base > 4096) {
        cells.emplace_back("kept_" + counter.substr(4), format_value(100 * (*v - *base) / (*peak - *base), Unit::percent));
      } else {
        cells.emplace_back(counter, format_value(*v, description_.unit_of(counter)));
      }
    }
    return cells;
  }

  void print_line(std::string name, const std::vector<std::string>& headers, const std::vector<std::string>& values,
                  const std::string& error) {
    std::ostream& out = GetOutputStream();
    if (!headers.empty() && headers != headers_) {
      headers_ = headers;
      widths_.assign(headers.size(), 0);
      std::string line = std::string("benchmark") + std::string(kNameWidth - 9, ' ');
      for (std::size_t i = 0; i < headers.size(); ++i) {
        widths_[i] = std::max<std::size_t>(headers[i].size(), 10) + 2;
        line += std::string(widths_[i] - headers[i].size(), ' ') + headers[i];
      }
      out << std::string(line.size(), '-') << "\n" << line << "\n" << std::string(line.size(), '-') << "\n";
    }
    if (name.size() < kNameWidth) name += std::string(kNameWidth - name.size(), ' ');
    if (!error.empty()) {
      out << (color_ ? "\033[31m" : "") << name << error << (color_ ? "\033[0m" : "") << "\n";
      return;
    }
    out << name;
    for (std::size_t i = 0; i < values.size(); ++i) {
      const std::size_t width = i < widths_.size() ? widths_[i] : values[i].size() + 2;
      out << std::string(width > values[i].size() ? width - values[i].size() : 1, ' ') << values[i];
    }
    out << "\n";
  }

  const RunDescription& description_;
  bool color_;
  std::vector<std::string> headers_;
  std::vector<std::size_t> widths_;
};

}  // namespace

std::unique_ptr<benchmark::BenchmarkReporter> make_reporter(const std::string& format, const Flags& flags, bool for_file,
                                                            const RunDescription& description) {
  if (format == "json") return std::make_unique<SuiteNameReporter>(std::make_unique<SuiteJsonReporter>(description));
  if (format == "csv") return std::make_unique<SuiteNameReporter>(std::make_unique<OneCallCsvReporter>());
  const bool color = !for_file && (flags.color == "auto" ? ::isatty(STDOUT_FILENO) != 0 : is_truthy(flags.color));
  if (!flags.tabular) return std::make_unique<HeadlineConsoleReporter>(description, color);
  int options = benchmark::ConsoleReporter::OO_Tabular;
  if (color) options |= benchmark::ConsoleReporter::OO_Color;
  return std::make_unique<SuiteNameReporter>(
      std::make_unique<benchmark::ConsoleReporter>(static_cast<benchmark::ConsoleReporter::OutputOptions>(options)));
}

}  // namespace bench
