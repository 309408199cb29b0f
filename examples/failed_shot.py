"""Part 3 of the guide, making the drink: the failed shot, in both error modes.

The grinder runs out of beans on order #4 and the espresso machine malfunctions on
order #6. In Go a failing stage must signal every other goroutine by hand, or the line
deadlocks. trioshop offers two policies:

* ``errors="raise"`` (the default): the first failure cancels every stage and the
  source, and the exception leaves the ``async with`` in an ``ExceptionGroup``
  (``except*`` catches it). Drinks already made were served; nothing keeps running.
* ``errors="collect"``: every order comes out as exactly one ``outcome.Value`` (a
  drink) or ``outcome.Error`` (what went wrong); a failed order skips the stations
  after the one that failed. Nothing is dropped silently.

What to notice: in "raise" mode the line stops at the first failure (order #4): the
drinks finished before it were served, the ones in the making were abandoned and the
rest never started; in "collect" mode all eight orders are accounted for, in order, and
the steamer never sees orders #4 and #6.
"""

from __future__ import annotations

import outcome
import trio

import trioshop
from _runner import run, stamp


class OutOfBeans(Exception):
    """The grinder's hopper is empty."""


class MachineMalfunction(Exception):
    """The espresso machine lost pressure."""


async def grind(order: int) -> int:
    await trio.sleep(0.1)
    if order == 4:
        raise OutOfBeans(f"no beans left for order #{order}")
    return order


async def pull(order: int) -> int:
    await trio.sleep(0.3)
    if order == 6:
        raise MachineMalfunction(f"no pressure while pulling order #{order}")
    return order


async def steam(order: int) -> str:
    await trio.sleep(0.2)
    print(f"{stamp()}   steamer finished order #{order}")
    return f"latte #{order}"


async def main() -> None:
    print(f'{stamp()} errors="raise": the first failure stops the line')
    try:
        async with trioshop.open_pipeline(range(1, 9), grind, pull, steam) as drinks:
            async for drink in drinks:
                print(f"{stamp()} >>> served {drink}")
    except* (OutOfBeans, MachineMalfunction) as group:
        for error in group.exceptions:
            print(f"{stamp()} !!! line stopped: {error!r}")

    print(f'{stamp()} errors="collect": every order gets exactly one outcome')
    async with trioshop.open_pipeline(
        range(1, 9), grind, pull, steam, errors="collect"
    ) as results:
        async for result in results:
            if isinstance(result, outcome.Value):
                print(f"{stamp()} >>> served {result.value}")
            else:
                print(f"{stamp()} !!! apology note: {result.error!r}")


if __name__ == "__main__":
    run(main, "the failed shot: errors='raise' versus errors='collect'")
