"""How every example runs: instantly in virtual time, or for real with ``--realtime``.

Not part of trioshop: a few lines each example would otherwise repeat. In virtual time
(the default) Trio's :class:`trio.testing.MockClock` jumps straight to the next timer
whenever every task is blocked, so a five-minute rush hour runs in milliseconds and the
printed times are virtual seconds. With ``--realtime`` the same code runs on the real
clock.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

import trio
import trio.testing

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

_start = 0.0


def now() -> float:
    """Seconds since the example started, on whichever clock it runs."""
    return trio.current_time() - _start


def stamp() -> str:
    """``[  1.25s]``: a time prefix for printed lines."""
    return f"[{now():7.2f}s]"


def a(drink: str) -> str:
    """``a latte``, ``an espresso``: the drink with its article, for the printed story."""
    return f"an {drink}" if drink[0] in "aeiou" else f"a {drink}"


def run(main: Callable[[], Awaitable[object]], description: str | None = None) -> None:
    """Parse ``--realtime`` and run *main* under Trio."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--realtime",
        action="store_true",
        help="run on the real clock instead of instantly in virtual time",
    )
    args = parser.parse_args()

    async def wrapper() -> None:
        global _start
        _start = trio.current_time()
        await main()

    clock = None if args.realtime else trio.testing.MockClock(autojump_threshold=0)
    trio.run(wrapper, clock=clock)
