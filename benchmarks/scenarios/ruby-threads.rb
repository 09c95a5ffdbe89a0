#!/usr/bin/ruby
# Scenario: Debian's ruby runs 8 threads that each keep 5,000 strings of 100 B to 4 KiB and replace them 40,000 times over (every string body a malloc), then drops them all, collects and idles: what glibc's per-thread arenas keep, the case for MALLOC_ARENA_MAX=2
# Needs: /usr/bin/ruby (ruby)
# Phase base: the interpreter is up, nothing built
# Phase built: the 8 threads have churned their strings; each still holds its 5,000
# Phase freed: the threads have ended, their strings dropped and GC.start run
# Phase idle (settling): the process has done nothing for the settle period

# ./bench's report socket (benchmarks/protocol/program_protocol.h); absent when run by hand.
REPORT = ENV["BENCH_REPORT_FD"] && IO.for_fd(Integer(ENV["BENCH_REPORT_FD"]), "r+", autoclose: false)
REPORT&.sync = true

def phase(name)
  return unless REPORT
  REPORT.write("phase #{name}\n")
  reply = REPORT.gets
  abort("scenario: bench answered #{reply.inspect} to phase #{name}") unless reply == "ok #{name}\n"
end

scale = Float(ENV.fetch("BENCH_SCALE", "1"))
settle = Float(ENV.fetch("BENCH_SETTLE_SECONDS", "10"))
threads_count = 8
keep = [(5_000 * scale).round, 1].max
replace = [(40_000 * scale).round, 1].max

phase("base")
built = Queue.new
release = Queue.new
threads = Array.new(threads_count) do |t|
  Thread.new do
    random = Random.new(t + 1)
    strings = Array.new(keep) { "x" * random.rand(100..4096) }
    replace.times { strings[random.rand(keep)] = "y" * random.rand(100..4096) }
    built << t
    release.pop  # hold the strings until every thread has built
    strings = nil
  end
end
threads_count.times { built.pop }
phase("built")
threads_count.times { release << :go }
threads.each(&:join)
threads = nil
GC.start
phase("freed")
sleep(settle)
phase("idle")
