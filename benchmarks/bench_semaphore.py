"""WeightedSemaphore throughput: ``async with sem.hold(1)`` vs ``async with trio.Semaphore``.

One task, uncontended (the fast path every call pays), and eight tasks contending for
a capacity of four (the hand-off path). Target: >= 0.8x ``trio.Semaphore``.

    .venv/bin/python benchmarks/bench_semaphore.py
"""

from __future__ import annotations

import trio

import trioshop
from _bench import Case, compare, main_args

TASKS, CAPACITY = 8, 4


async def weighted_one_task(ops: int) -> None:
    sem = trioshop.WeightedSemaphore(CAPACITY)
    for _ in range(ops):
        async with sem.hold(1):
            pass


async def trio_one_task(ops: int) -> None:
    sem = trio.Semaphore(CAPACITY)
    for _ in range(ops):
        async with sem:
            pass


async def weighted_contended(ops: int) -> None:
    sem = trioshop.WeightedSemaphore(CAPACITY)

    async def worker(n: int) -> None:
        for _ in range(n):
            async with sem.hold(1):
                await trio.lowlevel.checkpoint()

    async with trio.open_nursery() as nursery:
        for _ in range(TASKS):
            nursery.start_soon(worker, ops // TASKS)


async def trio_contended(ops: int) -> None:
    sem = trio.Semaphore(CAPACITY)

    async def worker(n: int) -> None:
        for _ in range(n):
            async with sem:
                await trio.lowlevel.checkpoint()

    async with trio.open_nursery() as nursery:
        for _ in range(TASKS):
            nursery.start_soon(worker, ops // TASKS)


def main() -> None:
    args = main_args("WeightedSemaphore.hold(1) vs trio.Semaphore")
    compare(
        "hold(1), one task",
        baseline=Case("trio.Semaphore", trio_one_task),
        candidate=Case("WeightedSemaphore.hold(1)", weighted_one_task),
        ops=args.ops,
        rounds=args.rounds,
    )
    compare(
        f"hold(1), {TASKS} tasks, capacity {CAPACITY}",
        baseline=Case("trio.Semaphore", trio_contended),
        candidate=Case("WeightedSemaphore.hold(1)", weighted_contended),
        ops=args.ops,
        rounds=args.rounds,
    )


if __name__ == "__main__":
    main()
