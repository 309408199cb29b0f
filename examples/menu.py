"""The menu board: a ``trioshop.RWLock`` (Part 2 of the Go guide: ``sync.RWMutex``).

Ten baristas keep glancing at the menu to price their orders; the manager changes the
prices twice during the rush. An update writes two prices with a pause in between (an
``await``), so a barista reading in the middle would see half an update. With the menu
behind an ``RWLock`` the baristas read together, the manager writes alone, and nobody
ever sees a half-written board.

What to notice: while the manager waits, new readers are held back (writer preference),
so the busy baristas cannot lock the manager out; when the manager is done, every
barista who was waiting reads the new board together.
"""

from __future__ import annotations

import trio

import trioshop
from _runner import run, stamp


class Menu:
    def __init__(self) -> None:
        self.version = 1
        self.prices = {"latte": (1, 3.50), "mocha": (1, 4.00)}  # drink -> (version, price)


async def barista(i: int, menu: Menu, lock: trioshop.RWLock, torn: list[int]) -> None:
    for _ in range(6):
        async with lock.read():
            latte_version, _ = menu.prices["latte"]
            await trio.sleep(0.02)  # reading takes a moment: the manager could write here
            mocha_version, _ = menu.prices["mocha"]
            if latte_version != mocha_version:
                torn.append(i)
        await trio.sleep(0.01 * (1 + i % 3))


async def manager(menu: Menu, lock: trioshop.RWLock, raise_by: float) -> None:
    print(f"{stamp()} manager arrives to update; {lock!r}")
    async with lock.write():
        print(f"{stamp()} manager updates the board; {lock!r}")
        menu.version += 1
        for drink in menu.prices:
            _, price = menu.prices[drink]
            menu.prices[drink] = (menu.version, price + raise_by)
            await trio.sleep(0.05)  # chalk is slow
    print(f"{stamp()} board now version {menu.version}: {lock!r}")


async def main() -> None:
    menu, lock = Menu(), trioshop.RWLock()
    torn: list[int] = []
    async with trio.open_nursery() as nursery:
        for i in range(10):
            nursery.start_soon(barista, i, menu, lock, torn)
        await trio.sleep(0.03)
        nursery.start_soon(manager, menu, lock, 0.25)
        await trio.sleep(0.01)
        print(f"{stamp()} new readers are held back behind the manager: {lock!r}")
        await trio.sleep(0.14)
        nursery.start_soon(manager, menu, lock, 0.10)
    prices = ", ".join(f"{drink} {price:.2f}" for drink, (_, price) in menu.prices.items())
    print(f"{stamp()} final menu: {prices}; torn reads seen: {len(torn)}")
    try:
        async with lock.read():
            await lock.acquire_write()
    except RuntimeError as exc:
        print(f"{stamp()} upgrading a read lock to a write lock raises: {exc}")


if __name__ == "__main__":
    run(main, "the menu board: a trioshop.RWLock with ten readers and a manager")
