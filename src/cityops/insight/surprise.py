"""How surprising a place's count in the window is, given its own count in the baseline period. Pure Python.

If the place's rate has not changed, then of the N = window + baseline reports it received, each fell in the
window with probability p = window length ÷ (window + baseline length) = 1 ÷ (1 + lookback), whatever that
rate is: the window count is Binomial(N, p). The surprise is P(X ≥ window count) under that binomial (the
conditional test for comparing two Poisson counts, Przyborowski & Wilenski 1940). Unlike comparing with a
rate taken as exact, it allows for the baseline itself being a noisy count, so a place whose baseline weeks
happened to be quiet is not flagged for an ordinary week.

Computed in log space from one side of the distribution, by a series whose terms shrink geometrically, so
5 000 reports against 10 does not underflow and very surprising places stay correctly ranked.
"""

from __future__ import annotations

import math
from collections.abc import Callable

_EPSILON = 1e-17


def log_pmf(k: int, n: int, p: float) -> float:
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
            + k * math.log(p) + (n - k) * math.log1p(-p))


def log_sf(k: int, n: int, p: float) -> float:
    """log P(X ≥ k) for X ~ Binomial(n, p)."""
    if k <= 0 or p >= 1:
        return 0.0
    if k > n or p <= 0:
        return -math.inf
    odds = p / (1 - p)
    if k > n * p:  # above the mean: P(X ≥ k) = pmf(k) · (1 + r₁ + r₁r₂ + …), r_i = pmf(k+i) ÷ pmf(k+i-1)
        return log_pmf(k, n, p) + math.log(_series(lambda i: (n - k - i + 1) / (k + i) * odds, n - k))
    # At or below the mean P(X ≥ k) is about one half or more, so its complement loses no precision.
    below = math.exp(log_pmf(k - 1, n, p)) * _series(lambda i: (k - i) / (n - k + i + 1) / odds, k - 1)
    return math.log1p(-min(below, 1.0))


def _series(ratio: Callable[[int], float], terms: int) -> float:
    """1 + r(1) + r(1)·r(2) + … over at most `terms` ratios, while the terms still matter."""
    total = term = 1.0
    for i in range(1, terms + 1):
        term *= ratio(i)
        total += term
        if term <= total * _EPSILON:
            break
    return total


def rise_log_p(count: int, baseline: int, lookback: int) -> float:
    """log P(a window count at least this high | count + baseline reports, rate unchanged)."""
    return log_sf(count, count + baseline, 1 / (1 + lookback))


def surprise(count: int, baseline: int, lookback: int) -> float:
    """-log10 of `rise_log_p`: 3 means "one chance in a thousand"."""
    return -rise_log_p(count, baseline, lookback) / math.log(10)
