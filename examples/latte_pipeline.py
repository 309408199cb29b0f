"""Part 3 of the guide, making the drink: the latte line (Go's pipeline pattern).

A latte is made at four stations: grind the beans, pull the shot, steam the milk, pour
the art. In Go each station is a goroutine reading one channel and writing the next, and
the programmer must close every channel and wait for every goroutine. Here each station
is a `trioshop.Stage`, every stage is a task in the nursery inside ``open_pipeline``,
and leaving the ``async with`` block is the cleanup.

What to notice: the stations work at the same time on different drinks (order #2 is
being ground while order #1's shot is pulled), so five lattes take about
``sum of the stations + 4 x the slowest one`` = 1.3 + 4 x 0.5 = 3.3 s instead of
5 x 1.3 = 6.5 s one after the other; and the drinks come out in order, because each
station has one barista.
"""

from __future__ import annotations

import trio

import trioshop
from _runner import run, stamp


async def grind(order: str) -> str:
    await trio.sleep(0.2)
    print(f"{stamp()} grinder   ground beans for {order}")
    return order


async def pull(order: str) -> str:
    await trio.sleep(0.5)
    print(f"{stamp()} espresso  pulled a shot for {order}")
    return order


async def steam(order: str) -> str:
    await trio.sleep(0.4)
    print(f"{stamp()} steamer   steamed milk for {order}")
    return order


async def art(order: str) -> str:
    await trio.sleep(0.2)
    print(f"{stamp()} art       poured a rosetta on {order}")
    return f"{order} latte"


async def main() -> None:
    orders = [f"#{n}" for n in range(1, 6)]
    print(f"{stamp()} five latte orders come in")
    async with trioshop.open_pipeline(orders, grind, pull, steam, art) as drinks:
        async for drink in drinks:
            print(f"{stamp()} >>> served {drink}")
    print(f"{stamp()} every station is closed: the line shut down with the block")


if __name__ == "__main__":
    run(main, "the latte line: grind -> pull -> steam -> art")
