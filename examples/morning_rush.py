"""Part 4 of the guide, "When things break": rate limiting the morning rush.

Go's tutorial limits a rush with a ticker (``time.Tick``: one customer every 200 ms) or
with ``x/time/rate`` (a token bucket that allows bursts). In trioshop both are a
:class:`trioshop.TokenBucket`: the ticker is ``TokenBucket(rate, burst=1)``, the bursty
limiter ``TokenBucket(rate, burst=n)``.

What to notice:

- with the ticker, customers enter exactly 0.2 s apart, the first one at once;
- with a burst of 3, the first three walk straight in, and then the door settles to the
  same steady 5 per second: bursts change the start, not the long-run rate;
- the queue outside is first come, first served, and a customer who gives up waiting
  (a cancel scope) takes no token with them: the next one in line goes at once.
"""

from __future__ import annotations

import trio
import trio.testing

import trioshop
from _runner import run, stamp


async def rush(door: trioshop.TokenBucket, label: str, customers: int) -> None:
    print(f"{stamp()} {label}: {door!r}")

    async def customer(i: int) -> None:
        await door.acquire()
        print(f"{stamp()}   customer {i} walks in")

    async with trio.open_nursery() as nursery:
        for i in range(1, customers + 1):
            nursery.start_soon(customer, i)
            await trio.testing.wait_all_tasks_blocked()  # arrive one after another


async def impatient(door: trioshop.TokenBucket) -> None:
    print(f"{stamp()} an impatient customer in the middle of the line:")

    async def customer(name: str, patience: float) -> None:
        with trio.move_on_after(patience):
            await door.acquire()
            print(f"{stamp()}   {name} walks in")
            return
        print(f"{stamp()}   {name} gives up and leaves (takes no token)")

    async with trio.open_nursery() as nursery:
        for name, patience in [("Ana", 10.0), ("Ben", 0.25), ("Cy", 10.0)]:
            nursery.start_soon(customer, name, patience)
            await trio.testing.wait_all_tasks_blocked()


async def main() -> None:
    await rush(trioshop.TokenBucket(5, burst=1), "the ticker, 5/s", 5)
    await trio.sleep(1)
    await rush(trioshop.TokenBucket(5, burst=3), "a token bucket, 5/s, burst 3", 6)
    await trio.sleep(1)
    await impatient(trioshop.TokenBucket(2, burst=1))


if __name__ == "__main__":
    run(main, "rate limiting the morning rush: a ticker and a token bucket")
