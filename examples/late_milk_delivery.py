"""Part 4 of the guide, "When things break": the late milk delivery.

The dairy's phone line is down for its first second. Four coffee shops keep calling
back with :func:`trioshop.retry` and a :class:`trioshop.Backoff` (cenkalti/backoff in
Go; the "exponential backoff and jitter" article from AWS).

What to notice:

- without jitter every shop calls at the same moments (+0, +0.1, +0.3, +0.7,
  +1.5 s): their retries arrive together, a thundering herd on a line that has only
  just come back;
- with full jitter (seeded, so every run prints the same) the calls spread out;
- the final failure keeps its story: the exception ``retry`` raises carries a note
  listing every attempt; and under a deadline (a cancel scope) ``retry`` gives up early
  instead of starting a wait that cannot end in time.
"""

from __future__ import annotations

import random

import trio

import trioshop
from _runner import run, stamp


class LineBusy(Exception):
    pass


class Dairy:
    """A phone line that is busy until ``opens_at`` (Trio time)."""

    def __init__(self, down_for: float) -> None:
        self.opens_at = trio.current_time() + down_for

    async def call(self, shop: str) -> str:
        await trio.lowlevel.checkpoint()
        if trio.current_time() < self.opens_at:
            print(f"{stamp()}   {shop:5} calls: busy")
            raise LineBusy("line busy")
        print(f"{stamp()}   {shop:5} calls: milk is on its way")
        return "milk"


async def four_shops(backoff: trioshop.Backoff, seed: int) -> None:
    dairy = Dairy(down_for=1.0)

    async def shop(name: str, order: int) -> None:
        # Each shop has its own seeded randomness, so the run does not depend on the
        # order in which Trio happens to schedule the shops.
        rng = random.Random(f"{seed} {name}")
        await trio.sleep(order * 0.001)  # one after another, a millisecond apart
        try:
            await trioshop.retry(
                dairy.call, name, attempts=8, backoff=backoff, retry_on=LineBusy, rng=rng
            )
        except LineBusy:
            print(f"{stamp()}   {name:5} gives up: no milk today")

    async with trio.open_nursery() as nursery:
        for order, name in enumerate(("North", "South", "East", "West")):
            nursery.start_soon(shop, name, order)


async def main() -> None:
    print(f"{stamp()} without jitter:")
    await four_shops(trioshop.Backoff(initial=0.1, jitter=None), seed=2026)

    await trio.sleep(1)
    print(f"{stamp()} with full jitter:")
    await four_shops(trioshop.Backoff(initial=0.1, jitter="full"), seed=2026)

    await trio.sleep(1)
    print(f"{stamp()} with a 0.5 s deadline, while the line is down for 5 s:")
    dairy = Dairy(down_for=5.0)
    try:
        with trio.fail_after(0.5):
            await trioshop.retry(
                dairy.call, "North", attempts=10, backoff=trioshop.Backoff(jitter=None)
            )
    except LineBusy as exc:
        print(f"{stamp()} North gave up before the deadline, without a useless wait:")
        for note in exc.__notes__:
            print(note)


if __name__ == "__main__":
    run(main, "retrying the late milk delivery with and without jitter")
