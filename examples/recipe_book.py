"""The recipe book: a ``trioshop.Once`` (Part 2 of the Go guide: ``sync.Once``).

The recipe book is fetched from head office the first time a barista needs it. Four
baristas reach for it at once: one makes the call, the others wait for that same call,
and all of them get the same book. The first call fails (head office is down): that
barista and everyone waiting get the error, and the next barista to need the book
simply calls again. Go's ``sync.Once`` would stay "done" after a panic, with no book.

What to notice: head office is called twice in all (one failure, one success), never
concurrently, and every barista holds the very same book object afterwards.
"""

from __future__ import annotations

import trio

import trioshop
from _runner import run, stamp


class HeadOffice:
    def __init__(self) -> None:
        self.calls = 0

    async def fetch_recipes(self) -> dict[str, str]:
        self.calls += 1
        print(f"{stamp()} calling head office (call {self.calls})")
        await trio.sleep(0.2)
        if self.calls == 1:
            raise ConnectionError("head office is down")
        return {"latte": "espresso + steamed milk", "mocha": "latte + chocolate"}


async def barista(name: str, recipes: trioshop.Once[dict[str, str]], books: list[object]) -> None:
    for attempt in range(1, 4):
        try:
            book = await recipes()
        except ConnectionError as exc:
            print(f"{stamp()} {name}: no book ({exc}), tries again shortly")
            await trio.sleep(0.1)
            continue
        books.append(book)
        print(f"{stamp()} {name} has the book (attempt {attempt}): a latte is {book['latte']}")
        return


async def main() -> None:
    office = HeadOffice()
    recipes = trioshop.Once(office.fetch_recipes)
    books: list[object] = []
    async with trio.open_nursery() as nursery:
        for name in ("Ana", "Ben", "Cy", "Dee"):
            nursery.start_soon(barista, name, recipes, books)
    same = all(book is books[0] for book in books)
    print(f"{stamp()} head office called {office.calls} times; everyone shares one book: {same}")
    print(f"{stamp()} {recipes!r}, {recipes.statistics()}")


if __name__ == "__main__":
    run(main, "the recipe book: a trioshop.Once that retries a failed fetch")
