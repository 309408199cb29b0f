"""Same-run, interleaved throughput comparisons.

Every benchmark in this folder compares a trioshop construct with the hand-written Trio
code it replaces, *in the same process, interleaved*, and reports the ratio of their
throughputs. Machines differ and load drifts; a ratio measured this way does not.

Usage in a benchmark script::

    from _bench import Case, compare, main_args

    args = main_args("what this measures")
    compare("open_shop vs hand-written pool", baseline=Case("hand-written", fn1),
            candidate=Case("open_shop", fn2), ops=args.ops, rounds=args.rounds)

``fn1``/``fn2`` are ``async def f(ops: int) -> None`` doing ``ops`` operations; each round
runs both (order alternating) in a fresh ``trio.run`` and the best round of each counts.
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import TYPE_CHECKING

import attrs
import trio

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable


@attrs.frozen
class Case:
    name: str
    fn: Callable[[int], Awaitable[None]]


@attrs.frozen
class Result:
    label: str
    baseline: str
    candidate: str
    baseline_ops_per_s: float
    candidate_ops_per_s: float

    @property
    def ratio(self) -> float:
        """Candidate throughput over baseline throughput (> 1: candidate is faster)."""
        return self.candidate_ops_per_s / self.baseline_ops_per_s


def main_args(description: str, *, ops: int = 20_000, rounds: int = 7) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--ops", type=int, default=ops, help="operations per round")
    parser.add_argument("--rounds", type=int, default=rounds, help="rounds per case")
    parser.add_argument(
        "--smoke", action="store_true", help="a tiny run that only checks the script works"
    )
    args = parser.parse_args()
    if args.smoke:
        args.ops, args.rounds = 200, 1
    return args


def time_one(fn: Callable[[int], Awaitable[None]], ops: int) -> float:
    """Seconds for one fresh ``trio.run(fn, ops)``."""
    gc.collect()
    start = time.perf_counter()
    trio.run(fn, ops)
    return time.perf_counter() - start


def compare(label: str, *, baseline: Case, candidate: Case, ops: int, rounds: int) -> Result:
    """Run both cases ``rounds`` times, interleaved, and print and return the best-of ratio."""
    best_base = best_cand = float("inf")
    for i in range(rounds):
        order = (baseline, candidate) if i % 2 == 0 else (candidate, baseline)
        for case in order:
            elapsed = time_one(case.fn, ops)
            if case is baseline:
                best_base = min(best_base, elapsed)
            else:
                best_cand = min(best_cand, elapsed)
    result = Result(label, baseline.name, candidate.name, ops / best_base, ops / best_cand)
    print(
        f"{label}: {candidate.name} {result.candidate_ops_per_s:,.0f} ops/s, "
        f"{baseline.name} {result.baseline_ops_per_s:,.0f} ops/s, ratio {result.ratio:.2f}x"
    )
    return result
