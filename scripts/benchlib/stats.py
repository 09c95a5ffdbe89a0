"""The statistics every speed figure goes through, in one place.

Estimate: the median of the repetitions. Interval: the distribution-free 95 % confidence interval
of the median from order statistics (the binomial method: the number of repetitions below the true
median is Binomial(n, 1/2)), so it assumes nothing about the shape of the noise, which on this
machine is dominated by slow spells (a skewed, heavy right tail of times). It exists for n >= 6
repetitions; below, the interval is the range (min..max) and its coverage is lower (75 % for 3
repetitions), which is said wherever it is used.

The noise rule: two medians differ only when their intervals do not overlap. Otherwise the
difference is "within noise", whatever its size.
"""

import math
import statistics
from dataclasses import dataclass

CONFIDENCE = 0.95


def _binomial_cdf(k, n):
    """P(X <= k) for X ~ Binomial(n, 1/2)."""
    return sum(math.comb(n, i) for i in range(0, k + 1)) / 2**n


def median_interval_ranks(n, confidence=CONFIDENCE):
    """(j, coverage): the interval [x_(j), x_(n+1-j)] (1-based order statistics) with the smallest
    coverage >= confidence; None when even the range (j = 1) covers less."""
    best = None
    for j in range(1, n // 2 + 1):
        coverage = 1 - 2 * _binomial_cdf(j - 1, n)
        if coverage >= confidence:
            best = (j, coverage)
        else:
            break
    return best


@dataclass
class Spread:
    """A quantity over the successful repetitions of one benchmark instance."""

    values: list

    @property
    def n(self):
        return len(self.values)

    @property
    def median(self):
        return statistics.median(self.values)

    @property
    def mean(self):
        return statistics.fmean(self.values)

    @property
    def sd(self):
        """Sample standard deviation (n - 1); None for n < 2."""
        return statistics.stdev(self.values) if self.n >= 2 else None

    @property
    def low(self):
        return min(self.values)

    @property
    def high(self):
        return max(self.values)

    @property
    def interval(self):
        """(low, high, coverage) of the median: the 95 % interval, or the range when n < 6."""
        xs = sorted(self.values)
        ranks = median_interval_ranks(self.n)
        if ranks is None:
            return xs[0], xs[-1], (1 - 2 * 0.5**self.n if self.n > 1 else 0.0)
        j, coverage = ranks
        return xs[j - 1], xs[self.n - j], coverage

    @property
    def has_confidence_interval(self):
        return median_interval_ranks(self.n) is not None

    @property
    def half_width_pct(self):
        """Half the interval's width in % of the median (None for a zero median)."""
        low, high, _ = self.interval
        m = self.median
        return (high - low) / 2 / abs(m) * 100 if m else None


def scaled(spread, factors):
    """The spread of value * factor, repetition by repetition."""
    return Spread([v * f for v, f in zip(spread.values, factors)])


DIFFERS = "differs"
WITHIN_NOISE = "within noise"
NO_VERDICT = "one repetition: no verdict"
# Set by summary.Controls, never by compare(): beyond the noise, but no larger than what the run's own
# control pairs (the same timed code) differ by.
NOT_SHOWN = "not shown"


def compare(a, b):
    """The noise rule for two Spreads: DIFFERS when their median intervals do not overlap, else
    WITHIN_NOISE; NO_VERDICT when a side has a single repetition (no interval at all). A side with
    no values gives None."""
    if a is None or b is None or not a.values or not b.values:
        return None
    if a.n < 2 or b.n < 2:
        return NO_VERDICT
    a_low, a_high, _ = a.interval
    b_low, b_high, _ = b.interval
    return DIFFERS if a_high < b_low or b_high < a_low else WITHIN_NOISE


def range_false_alarm(n_a, n_b):
    """The chance that two equally distributed samples of n_a and n_b values have ranges that do not
    overlap: what the noise rule risks below 6 repetitions (2 / C(2n, n): 33 % at 2, 10 % at 3)."""
    return 2 / math.comb(n_a + n_b, n_a)


def ratio(a, b):
    """median(a) / median(b), None when undefined."""
    if a is None or b is None or not b.median:
        return None
    return a.median / b.median


def interval_text(spread, fmt=lambda v: f"{v:.3g}"):
    """'1.23 (1.20–1.26)' with the coverage when it is not the 95 % interval; a single value alone."""
    if spread.n < 2:
        return fmt(spread.median)
    low, high, coverage = spread.interval
    text = f"{fmt(spread.median)} ({fmt(low)}–{fmt(high)})"
    if not spread.has_confidence_interval:
        text += f" range, {coverage * 100:.0f} %"
    return text
