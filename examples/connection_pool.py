"""The connection pool, opened once: ``trioshop.Once`` with ``trio.CapacityLimiter``.

The shop talks to the loyalty-card service through a pool of three connections. The
pool is opened lazily, by whichever barista first needs it, and exactly once. Here the
first barista to open it is called away to the door (cancelled) half-way through;
the other baristas waiting for the pool are *not* cancelled with her: one of them
opens it again, and everyone shares that pool. Then the pool's ``CapacityLimiter``
keeps at most three lookups in flight.

What to notice: the cancelled opener leaves no half-open pool behind, nobody else is
disturbed, and the pool is opened by exactly one successful run.
"""

from __future__ import annotations

import trio

import trioshop
from _runner import run, stamp


class Pool:
    def __init__(self, size: int) -> None:
        self.connections = trio.CapacityLimiter(size)
        self.peak = 0

    async def lookup(self, card: int) -> int:
        async with self.connections:
            self.peak = max(self.peak, self.connections.borrowed_tokens)
            await trio.sleep(0.05)
            return card * 10  # loyalty points


async def open_pool() -> Pool:
    print(f"{stamp()} opening the connection pool ...")
    await trio.sleep(0.3)  # TLS handshakes
    print(f"{stamp()} pool open")
    return Pool(3)


async def barista(name: str, get_pool: trioshop.Once[Pool], card: int) -> None:
    pool = await get_pool()
    points = await pool.lookup(card)
    print(f"{stamp()} {name}: card {card} has {points} points")


async def called_away(name: str, get_pool: trioshop.Once[Pool]) -> None:
    with trio.move_on_after(0.1):
        await get_pool()
    print(f"{stamp()} {name} was called to the door while opening the pool")


async def main() -> None:
    get_pool = trioshop.Once(open_pool)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(called_away, "Eve", get_pool)
        await trio.sleep(0.01)
        for i, name in enumerate(("Ana", "Ben", "Cy", "Dee", "Fay", "Gus")):
            nursery.start_soon(barista, name, get_pool, 100 + i)
    pool = await get_pool()
    stats = get_pool.statistics()
    print(
        f"{stamp()} pool opened {stats.runs} times ({stats.runs - 1} abandoned), "
        f"peak {pool.peak} lookups in flight of 3"
    )


if __name__ == "__main__":
    run(main, "a connection pool opened once, surviving a cancelled opener")
