"""RWLock throughput: ``async with lock.read()/write()``, 90% reads, one task.

Baseline: tricycle's ``RWLock`` driven through its plain ``acquire_read`` /
``acquire_write`` / ``release`` calls (faster than its own ``@asynccontextmanager``
helpers). Target: trioshop's context managers at least as fast (ratio >= 1.0).
A second line compares with a bare ``trio.Lock`` for scale.

    .venv/bin/python benchmarks/bench_rwlock.py
"""

from __future__ import annotations

import tricycle
import trio

import trioshop
from _bench import Case, compare, main_args


def _is_write(i: int) -> bool:
    return i % 10 == 9  # one write in ten


async def trioshop_rwlock(ops: int) -> None:
    lock = trioshop.RWLock()
    for i in range(ops):
        if _is_write(i):
            async with lock.write():
                pass
        else:
            async with lock.read():
                pass


async def tricycle_plain_calls(ops: int) -> None:
    lock = tricycle.RWLock()
    for i in range(ops):
        if _is_write(i):
            await lock.acquire_write()
            lock.release()
        else:
            await lock.acquire_read()
            lock.release()


async def trio_lock(ops: int) -> None:
    lock = trio.Lock()
    for i in range(ops):
        if _is_write(i):
            async with lock:
                pass
        else:
            async with lock:
                pass


def main() -> None:
    args = main_args("RWLock, 90% reads, one task: trioshop async with vs tricycle plain calls")
    compare(
        "RWLock 90% reads",
        baseline=Case("tricycle.RWLock acquire_*/release", tricycle_plain_calls),
        candidate=Case("trioshop.RWLock async with", trioshop_rwlock),
        ops=args.ops,
        rounds=args.rounds,
    )
    compare(
        "RWLock vs a plain mutex",
        baseline=Case("trio.Lock async with", trio_lock),
        candidate=Case("trioshop.RWLock async with", trioshop_rwlock),
        ops=args.ops,
        rounds=args.rounds,
    )


if __name__ == "__main__":
    main()
