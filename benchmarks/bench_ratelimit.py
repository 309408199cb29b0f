"""A non-waiting ``TokenBucket.acquire()`` against a bare Trio checkpoint.

Every ``acquire()`` is a checkpoint (Trio's rule for async calls), so a bare
``trio.lowlevel.checkpoint()`` is the floor. The issue's target: the bucket's fast path
costs at most 1.25x that floor (ratio >= 0.8). A hand-written naive Trio bucket (settle,
compare, subtract, ``trio.sleep(0)``) is measured too, for reference. aiolimiter, the
usual Python choice, needs asyncio and cannot run under Trio.

    python benchmarks/bench_ratelimit.py [--ops N] [--rounds R] [--smoke]
"""

from __future__ import annotations

import math

import trio
import trio.lowlevel

import trioshop
from _bench import Case, compare, main_args


async def bare_checkpoint(ops: int) -> None:
    checkpoint = trio.lowlevel.checkpoint
    for _ in range(ops):
        await checkpoint()


async def bucket_acquire(ops: int) -> None:
    # Never waits: an infinite rate keeps the bucket full. The settle-and-take arithmetic
    # still runs on every call.
    acquire = trioshop.TokenBucket(math.inf, burst=10).acquire
    for _ in range(ops):
        await acquire()


async def bucket_acquire_finite(ops: int) -> None:
    # A finite rate high enough never to run dry during the run.
    acquire = trioshop.TokenBucket(1e12, burst=1_000_000).acquire
    for _ in range(ops):
        await acquire()


async def naive_bucket(ops: int) -> None:
    rate, burst = 1e12, 1_000_000
    tokens, last = float(burst), trio.current_time()
    for _ in range(ops):
        now = trio.current_time()
        tokens = min(burst, tokens + (now - last) * rate)
        last = now
        while tokens < 1:
            await trio.sleep((1 - tokens) / rate)
            now = trio.current_time()
            tokens = min(burst, tokens + (now - last) * rate)
            last = now
        tokens -= 1
        await trio.lowlevel.checkpoint()


def main() -> None:
    args = main_args("TokenBucket.acquire() fast path vs a bare checkpoint")
    floor = Case("trio.lowlevel.checkpoint()", bare_checkpoint)
    for label, case in [
        ("acquire(), rate=inf", Case("TokenBucket.acquire()", bucket_acquire)),
        ("acquire(), finite rate", Case("TokenBucket.acquire()", bucket_acquire_finite)),
        ("naive hand-written bucket", Case("naive Trio bucket", naive_bucket)),
    ]:
        compare(label, baseline=floor, candidate=case, ops=args.ops, rounds=args.rounds)


if __name__ == "__main__":
    main()
