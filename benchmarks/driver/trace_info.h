// `./bench --trace-info=DIR`: what a recording holds, read outside any recorded process, as JSON on
// standard output — every trace of the folder (its process image, how it ended, its events by kind,
// its sites, its residency moments, a warning if it was cut short) and the analysis's figures (free,
// pinned, used, outside at each moment; trace/analysis.h). A folder with no trace, or a trace that
// cannot be read, is an error naming the file and the offset: exit 2.
#pragma once

#include <string>

namespace bench {

int print_trace_info(const std::string& directory);

}  // namespace bench
