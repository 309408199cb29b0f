"""The milk steamers: a ``trio.CapacityLimiter`` (Part 2 of the Go guide: semaphores).

The shop has two milk steamers and six baristas who each need one to froth milk for a
latte. In Go this is a buffered channel of size 2 used as a semaphore; in Trio it is a
``CapacityLimiter(2)``, which also remembers *who* borrowed each steamer, so a barista
cannot give back a steamer they never took.

What to notice: never more than two steam at once; the others wait in line and take a
steamer the moment one is handed back.
"""

from __future__ import annotations

import trio

from _runner import run, stamp


async def froth(name: str, steamers: trio.CapacityLimiter, seconds: float) -> None:
    async with steamers:
        in_use = steamers.borrowed_tokens
        print(f"{stamp()} {name} starts steaming ({in_use}/{steamers.total_tokens} in use)")
        await trio.sleep(seconds)
    print(f"{stamp()} {name} is done")


async def main() -> None:
    steamers = trio.CapacityLimiter(2)
    async with trio.open_nursery() as nursery:
        for i in range(6):
            nursery.start_soon(froth, f"barista {i}", steamers, 0.2 + 0.05 * (i % 3))
        await trio.sleep(0.1)
        stats = steamers.statistics()
        print(f"{stamp()} {stats.borrowed_tokens} steaming, {stats.tasks_waiting} waiting")
    try:
        steamers.release()
    except RuntimeError as exc:
        print(f"{stamp()} giving back a steamer you never took raises: {exc}")


if __name__ == "__main__":
    run(main, "the milk steamers: a trio.CapacityLimiter")
