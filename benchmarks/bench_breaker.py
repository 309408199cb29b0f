"""``CircuitBreaker.call()`` on the closed path, against the plain call.

The issue's target: at least 0.85x the plain call's throughput. The breaker holds
nothing across the call (the seed's breaker held a mutex and serialised every call), so
its cost is admission and bookkeeping only. The guarded call does one checkpoint, like
almost every real async call; ``async with breaker:`` is measured too (it is a full
checkpoint on entry, so it costs one extra scheduling round trip).

    python benchmarks/bench_breaker.py [--ops N] [--rounds R] [--smoke]
"""

from __future__ import annotations

import trio

import trioshop
from _bench import Case, compare, main_args


async def pull_shot() -> str:
    await trio.lowlevel.checkpoint()
    return "espresso"


async def plain(ops: int) -> None:
    for _ in range(ops):
        await pull_shot()


async def through_breaker(ops: int) -> None:
    call = trioshop.CircuitBreaker().call
    for _ in range(ops):
        await call(pull_shot)


async def async_with_breaker(ops: int) -> None:
    breaker = trioshop.CircuitBreaker()
    for _ in range(ops):
        async with breaker:
            await pull_shot()


def main() -> None:
    args = main_args("CircuitBreaker.call() on the closed path vs the plain call")
    compare(
        "breaker.call(), closed",
        baseline=Case("plain call", plain),
        candidate=Case("breaker.call(fn)", through_breaker),
        ops=args.ops,
        rounds=args.rounds,
    )
    compare(
        "async with breaker:, closed",
        baseline=Case("plain call", plain),
        candidate=Case("async with breaker", async_with_breaker),
        ops=args.ops,
        rounds=args.rounds,
    )


if __name__ == "__main__":
    main()
