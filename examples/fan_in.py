"""Part 3 of the guide, making the drink: fan-in of espresso and steamed milk.

A latte needs a shot *and* steamed milk. For one drink, ``trioshop.gather`` starts both
at once and hands back both results in argument order (Go's ``errgroup`` with ``Wait``).
For a whole rush, the espresso machine and the steamer each put their parts on their own
counter (a channel), and ``trioshop.merge`` fans the two counters into one, which the
barista finishing the drinks reads (Go's fan-in ``merge``).

What to notice: ``gather`` takes as long as the slower part (0.5 s), not the sum; the
merged counter carries the parts in the order they were ready, mixing both inputs, and
ends only when both the espresso machine and the steamer have closed their counters.
"""

from __future__ import annotations

import trio

import trioshop
from _runner import run, stamp


async def pull_shot() -> str:
    await trio.sleep(0.5)
    return "espresso"


async def steam_milk() -> str:
    await trio.sleep(0.3)
    return "steamed milk"


async def espresso_machine(counter: trio.MemorySendChannel[str], orders: int) -> None:
    async with counter:
        for n in range(1, orders + 1):
            await trio.sleep(0.5)
            await counter.send(f"shot #{n}")


async def steamer(counter: trio.MemorySendChannel[str], orders: int) -> None:
    async with counter:
        for n in range(1, orders + 1):
            await trio.sleep(0.3)
            await counter.send(f"milk #{n}")


async def main() -> None:
    print(f"{stamp()} one latte: pull the shot and steam the milk at once")
    shot, milk = await trioshop.gather(pull_shot, steam_milk)
    print(f"{stamp()} >>> latte from {shot} and {milk}")

    print(f"{stamp()} rush of three: two counters, merged into one")
    shots_tx, shots_rx = trio.open_memory_channel[str](0)
    milk_tx, milk_rx = trio.open_memory_channel[str](0)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(espresso_machine, shots_tx, 3)
        nursery.start_soon(steamer, milk_tx, 3)
        async with trioshop.merge(shots_rx, milk_rx) as counter:
            async for part in counter:
                print(f"{stamp()}   on the pass: {part}")
    print(f"{stamp()} both counters closed: the merged counter ended")


if __name__ == "__main__":
    run(main, "fan-in: gather two parts, merge two counters")
