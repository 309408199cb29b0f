"""Part 3 of the guide, making the drink: fan-out of the slow espresso stage.

Pulling a shot takes 2 s; grinding and steaming are quick. With one barista at the
espresso machine every drink waits for the one before it. Go's fan-out starts several
goroutines reading the same channel; trioshop says ``Stage(pull, workers=3)``, and the
three workers are tasks in the pipeline's nursery, so none can leak.

What to notice: the same six orders take about 13 s with one espresso worker and about
5 s with three. With ``ordered=True`` the drinks still leave in ticket order even though
order #3 (a double shot) takes longer than #4 and #5: finished drinks wait at the pass
for the ones before them, and at most ``workers`` drinks are ever held back.
"""

from __future__ import annotations

import trio

import trioshop
from _runner import now, run, stamp


async def grind(order: int) -> int:
    await trio.sleep(0.1)
    return order


async def pull(order: int) -> int:
    seconds = 3.0 if order == 3 else 2.0  # order #3 is a double shot
    print(f"{stamp()}   pulling shot for #{order}")
    await trio.sleep(seconds)
    return order


async def steam(order: int) -> str:
    await trio.sleep(0.1)
    return f"latte #{order}"


async def make_six(workers: int) -> float:
    start = now()
    espresso = trioshop.Stage(pull, workers=workers, ordered=True)
    async with trioshop.open_pipeline(range(1, 7), grind, espresso, steam) as drinks:
        async for drink in drinks:
            print(f"{stamp()} >>> served {drink}")
    return now() - start


async def main() -> None:
    print(f"{stamp()} one barista at the espresso machine")
    alone = await make_six(workers=1)
    print(f"{stamp()} three baristas at the espresso machine (fan-out, ordered)")
    three = await make_six(workers=3)
    print(f"{stamp()} six lattes: {alone:.1f} s with one, {three:.1f} s with three")


if __name__ == "__main__":
    run(main, "fan-out: three workers on the slow espresso stage")
