"""Weighted orders: a ``trioshop.WeightedSemaphore`` (Part 2 of the Go guide).

The counter holds six cups. A single espresso takes one unit of it, a round of
cappuccinos three, an office order five. In Go this is ``semaphore.Weighted``; trioshop's
``WeightedSemaphore`` keeps its strict FIFO order and removes its sharp edges.

What to notice:

* the office order (5) arrives while the counter is busy and is *not* starved by the
  stream of espressos behind it: strict FIFO, so they wait their turn;
* one hand-back of cups lets several small orders in at once, in order;
* when a waiting order at the head of the line is cancelled, the orders behind it that
  now fit go in at once (Go's x/sync once lost this wake-up);
* an order larger than the counter fails at once with ``ValueError``; in Go it would
  block forever.
"""

from __future__ import annotations

import trio

import trioshop
from _runner import run, stamp


def _cups(n: int) -> str:
    return f"{n} cup" if n == 1 else f"{n} cups"


async def order(counter: trioshop.WeightedSemaphore, name: str, cups: int, seconds: float) -> None:
    print(f"{stamp()} {name} ({_cups(cups)}) queues; {counter!r}")
    async with counter.hold(cups):
        print(f"{stamp()} {name} is being made; {counter!r}")
        await trio.sleep(seconds)
    print(f"{stamp()} {name} served")


async def impatient(
    counter: trioshop.WeightedSemaphore, name: str, cups: int, patience: float
) -> None:
    print(f"{stamp()} {name} ({_cups(cups)}) queues, will wait {patience}s")
    with trio.move_on_after(patience):
        async with counter.hold(cups):
            print(f"{stamp()} {name} is being made")
            await trio.sleep(0.1)
        return
    print(f"{stamp()} {name} gave up and left; {counter!r}")


async def main() -> None:
    counter = trioshop.WeightedSemaphore(6)
    print("-- FIFO: the office order is not starved by espressos")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(order, counter, "cappuccinos", 3, 0.3)
        await trio.sleep(0.01)
        nursery.start_soon(order, counter, "office order", 5, 0.2)
        await trio.sleep(0.01)
        for i in range(3):
            nursery.start_soon(order, counter, f"espresso {i}", 1, 0.1)
            await trio.sleep(0.01)

    print("-- a cancelled order at the head lets those behind it in")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(order, counter, "big round", 4, 0.3)
        await trio.sleep(0.01)
        nursery.start_soon(impatient, counter, "second round", 4, 0.1)
        await trio.sleep(0.01)
        nursery.start_soon(order, counter, "espresso", 1, 0.05)
        nursery.start_soon(order, counter, "macchiato", 1, 0.05)

    print("-- an order that can never fit")
    try:
        await counter.acquire(7)
    except ValueError as exc:
        print(f"{stamp()} ValueError at once: {exc}")


if __name__ == "__main__":
    run(main, "weighted orders on a trioshop.WeightedSemaphore")
