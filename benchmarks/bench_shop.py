"""open_shop against a hand-written Trio worker pool of the same shape.

Both pools: ``--baristas`` worker tasks (default 4), a queue of ``--queue-size`` (default
100), and a handler with exactly one checkpoint. One producer places ``--ops`` orders and
the block exits when all are made. The hand-written pool is what a careful Trio programmer
writes without trioshop: a memory channel, worker tasks that ``async for`` over a clone of
its receive end, and a nursery. It has no tickets, no per-order outcome, no deadlines and
no statistics; trioshop has all of those and should still keep up.

Second part: the same run with 1, 4, 64 and 1024 baristas, to show that the per-order
cost of the shop does not grow with the size of the crew (or of the queue).

    python benchmarks/bench_shop.py            # default: 20,000 orders, best of 7
"""

from __future__ import annotations

import functools

import trio

import trioshop
from _bench import Case, compare, main_args, time_one


async def handler(order: int) -> int:
    await trio.lowlevel.checkpoint()
    return order


async def hand_written_pool(ops: int, *, baristas: int, queue_size: int) -> None:
    send, receive = trio.open_memory_channel[int](queue_size)

    async def worker(receive: trio.MemoryReceiveChannel[int]) -> None:
        async with receive:
            async for order in receive:
                await handler(order)

    async with trio.open_nursery() as nursery:
        async with receive:
            for _ in range(baristas):
                nursery.start_soon(worker, receive.clone())
        async with send:
            for order in range(ops):
                await send.send(order)


async def trioshop_pool(ops: int, *, baristas: int, queue_size: int) -> None:
    async with trioshop.open_shop(handler, baristas=baristas, queue_size=queue_size) as shop:
        for order in range(ops):
            await shop.place_order(order)


def marginal_cost_us(baristas: int, queue_size: int, ops: int, rounds: int) -> float:
    """Microseconds per extra order: (time for 2N orders - time for N) / N, best of rounds.

    Subtracting the N-order run removes the fixed cost of hiring the crew, which for 1024
    baristas would otherwise swamp the per-order cost.
    """
    fn = functools.partial(trioshop_pool, baristas=baristas, queue_size=queue_size)
    short = min(time_one(fn, ops) for _ in range(rounds))
    long = min(time_one(fn, 2 * ops) for _ in range(rounds))
    return 1e6 * (long - short) / ops


def main() -> None:
    args = main_args(__doc__ or "")
    print("Throughput, same run, interleaved (ratio = open_shop / hand-written):")
    for baristas, queue_size in [(4, 100), (1, 100), (64, 100), (1024, 100), (4, 10_000)]:
        compare(
            f"{baristas:>4} baristas, queue {queue_size:>5}",
            baseline=Case(
                "hand-written",
                functools.partial(hand_written_pool, baristas=baristas, queue_size=queue_size),
            ),
            candidate=Case(
                "open_shop",
                functools.partial(trioshop_pool, baristas=baristas, queue_size=queue_size),
            ),
            ops=args.ops,
            rounds=args.rounds,
        )
    print("Marginal cost of one more order through open_shop (crew start-up excluded):")
    for baristas, queue_size in [(1, 100), (4, 100), (64, 100), (1024, 100), (4, 10_000)]:
        cost = marginal_cost_us(baristas, queue_size, args.ops, args.rounds)
        print(f"  {baristas:>4} baristas, queue {queue_size:>5}: {cost:.2f} us/order")


if __name__ == "__main__":
    main()
