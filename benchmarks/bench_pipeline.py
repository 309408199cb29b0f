"""Pipeline overhead: open_pipeline against hand-wired memory channels, and fan-out cost.

1. A 4-stage pipeline of trivial async stages through `trioshop.open_pipeline`, against
   the same line written by hand: a source task, four stage tasks and the consumer, joined
   by unbuffered memory channels. Target: >= 0.85x the hand-written throughput.
2. A trivial stage fanned out to 3 workers (``Stage(fn, workers=3)``) against the same
   stage with 1 worker, both through `open_pipeline`. Target: >= 0.95x.

Run: ``python benchmarks/bench_pipeline.py`` (``--smoke`` for a quick check).
"""

from __future__ import annotations

from typing import Any

import trio

import trioshop
from _bench import Case, compare, main_args


async def inc(x: int) -> int:
    return x + 1


async def hand_written(ops: int) -> None:
    async def source(send: trio.MemorySendChannel[int]) -> None:
        async with send:
            for i in range(ops):
                await send.send(i)

    async def stage(
        receive: trio.MemoryReceiveChannel[int], send: trio.MemorySendChannel[int]
    ) -> None:
        async with receive, send:
            async for item in receive:
                await send.send(await inc(item))

    async with trio.open_nursery() as nursery:
        send, receive = trio.open_memory_channel[int](0)
        nursery.start_soon(source, send)
        for _ in range(4):
            next_send, next_receive = trio.open_memory_channel[int](0)
            nursery.start_soon(stage, receive, next_send)
            receive = next_receive
        count = 0
        async for _ in receive:
            count += 1
    assert count == ops


async def with_pipeline(ops: int) -> None:
    count = 0
    async with trioshop.open_pipeline(range(ops), inc, inc, inc, inc) as results:
        async for _ in results:
            count += 1
    assert count == ops


def fanned_out(workers: int) -> Any:
    async def run(ops: int) -> None:
        count = 0
        stage = trioshop.Stage(inc, workers=workers)
        async with trioshop.open_pipeline(range(ops), stage) as results:
            async for _ in results:
                count += 1
        assert count == ops

    return run


def main() -> None:
    args = main_args(__doc__ or "", ops=20_000, rounds=7)
    compare(
        "4-stage pipeline",
        baseline=Case("hand-written channels", hand_written),
        candidate=Case("open_pipeline", with_pipeline),
        ops=args.ops,
        rounds=args.rounds,
    )
    compare(
        "trivial stage fan-out",
        baseline=Case("workers=1", fanned_out(1)),
        candidate=Case("workers=3", fanned_out(3)),
        ops=args.ops,
        rounds=args.rounds,
    )


if __name__ == "__main__":
    main()
