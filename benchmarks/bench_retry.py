"""``retry()`` around a call that succeeds the first time, against the plain call.

The issue's target: at least 0.85x the plain call's throughput (tenacity, the usual
Python choice, measures about 0.11x on its asyncio path). The guarded call does what
almost every real async call does: one checkpoint. A call with no checkpoint at all is
also measured, to show the fixed cost of ``retry`` itself (argument checks, a
cancellation check, two clock reads).

    python benchmarks/bench_retry.py [--ops N] [--rounds R] [--smoke]
"""

from __future__ import annotations

import trio

import trioshop
from _bench import Case, compare, main_args


async def pour() -> str:
    await trio.lowlevel.checkpoint()
    return "milk"


async def pour_no_checkpoint() -> str:
    return "milk"


async def plain(ops: int) -> None:
    for _ in range(ops):
        await pour()


async def with_retry(ops: int) -> None:
    retry = trioshop.retry
    for _ in range(ops):
        await retry(pour)


async def plain_no_checkpoint(ops: int) -> None:
    for _ in range(ops):
        await pour_no_checkpoint()
    await trio.lowlevel.checkpoint()


async def with_retry_no_checkpoint(ops: int) -> None:
    retry = trioshop.retry
    for _ in range(ops):
        await retry(pour_no_checkpoint)
    await trio.lowlevel.checkpoint()


def main() -> None:
    args = main_args("retry() around a first-time success vs the plain call")
    compare(
        "retry(), call with one checkpoint",
        baseline=Case("plain call", plain),
        candidate=Case("retry(call)", with_retry),
        ops=args.ops,
        rounds=args.rounds,
    )
    compare(
        "retry(), call with no checkpoint (fixed cost)",
        baseline=Case("plain call", plain_no_checkpoint),
        candidate=Case("retry(call)", with_retry_no_checkpoint),
        ops=args.ops,
        rounds=args.rounds,
    )


if __name__ == "__main__":
    main()
