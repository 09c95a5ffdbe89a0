#!/usr/bin/perl
# Scenario: Debian's perl builds a hash of 1,000,000 strings of 40 bytes (Perl takes every string buffer and hash entry from malloc), frees the hash and idles: the README's worked example of a program whose freed memory stays
# Needs: /usr/bin/perl (perl-base)
# Phase base: the interpreter is up, nothing built
# Phase built: %h holds 1,000,000 keys, each value "x" x 40
# Phase freed: undef %h: every key and value freed
# Phase idle (settling): the process has done nothing for the settle period
use strict;
use warnings;

# ./bench's report socket (benchmarks/protocol/program_protocol.h); absent when run by hand.
my $report;
if (defined $ENV{BENCH_REPORT_FD}) {
    open($report, "+<&=", $ENV{BENCH_REPORT_FD}) or die "scenario: cannot open BENCH_REPORT_FD: $!";
    $report->autoflush(1);
}
sub phase {
    my ($name) = @_;
    return unless $report;
    print $report "phase $name\n";
    my $reply = <$report>;
    die "scenario: bench answered '" . ($reply // '') . "' to phase $name" unless defined $reply && $reply eq "ok $name\n";
}
my $scale = $ENV{BENCH_SCALE} // 1;
my $settle = $ENV{BENCH_SETTLE_SECONDS} // 10;
my $count = int(1_000_000 * $scale) || 1;

phase("base");
my %h;
$h{$_} = "x" x 40 for 1 .. $count;
phase("built");
undef %h;
phase("freed");
select(undef, undef, undef, $settle);
phase("idle");
