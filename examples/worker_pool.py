"""The worker pool: three baristas, ten customers (Part 1 of the Go coffee-shop guide).

In Go a worker pool is built by hand from goroutines, a buffered channel and a
``sync.WaitGroup``::

    orders := make(chan Order, 10)
    var wg sync.WaitGroup
    for i := 0; i < 3; i++ {
        wg.Add(1)
        go func() {
            defer wg.Done()
            for o := range orders {
                makeDrink(o)
            }
        }()
    }
    for _, o := range customers {
        orders <- o
    }
    close(orders) // forget this and wg.Wait() never returns
    wg.Wait()     // forget this and main returns while drinks are still being made

Here the whole pool is one ``async with trioshop.open_shop(make, baristas=3,
queue_size=10)`` block. The baristas are tasks owned by the shop; leaving the block
closes the order queue *and* waits for every barista, so neither the ``close`` nor the
``wg.Wait()`` can be forgotten. Every order gets a :class:`trioshop.Ticket` with its
outcome.

What to notice:

* never more than three drinks are made at once; later orders wait in the queue, and
  whichever barista comes free first takes the oldest one;
* the body of the block has placed its last order at 0.45s, but the block ends only
  when the last drink is handed over: leaving the block is the ``wg.Wait()``;
* after the block every ticket is done and
  ``accepted == completed + failed + cancelled``: nothing is lost.

Run it instantly in virtual time, or watch it with ``--realtime``::

    python examples/worker_pool.py
    python examples/worker_pool.py --realtime
"""

from __future__ import annotations

import attrs
import trio

import trioshop
from _runner import a, run, stamp

#: How long each drink takes to make, in seconds.
RECIPES = {
    "espresso": 0.13,
    "macchiato": 0.17,
    "cortado": 0.21,
    "flat white": 0.27,
    "latte": 0.31,
    "cappuccino": 0.29,
    "mocha": 0.37,
}

#: Who comes in, in order, one every ARRIVAL_GAP seconds, and what they order.
CUSTOMERS = [
    ("Ava", "latte"),
    ("Ben", "espresso"),
    ("Cleo", "mocha"),
    ("Dan", "cortado"),
    ("Eve", "flat white"),
    ("Finn", "macchiato"),
    ("Gia", "cappuccino"),
    ("Hugo", "espresso"),
    ("Ivy", "latte"),
    ("Jack", "cortado"),
]
ARRIVAL_GAP = 0.05
BARISTA_NAMES = ["Mo", "Lu", "Kai"]


@attrs.frozen
class Order:
    customer: str
    drink: str


@attrs.define
class Crew:
    """Names the baristas: each barista is one task of the shop, named when first seen."""

    names: list[str]
    _by_task: dict[trio.lowlevel.Task, str] = attrs.field(init=False, factory=dict)

    def current(self) -> str:
        task = trio.lowlevel.current_task()
        if task not in self._by_task:
            self._by_task[task] = self.names[len(self._by_task)]
        return self._by_task[task]


async def main() -> None:
    crew = Crew(BARISTA_NAMES)

    async def make(order: Order) -> str:
        """The handler: one barista making one order."""
        barista = crew.current()
        print(f"{stamp()}     {barista:>3} starts {order.customer}'s {order.drink}")
        await trio.sleep(RECIPES[order.drink])
        print(f"{stamp()}     {barista:>3} hands {order.customer} {a(order.drink)}")
        return f"{order.drink} for {order.customer}, made by {barista}"

    print(f"{stamp()} the shop opens: {len(BARISTA_NAMES)} baristas, room for 10 orders")
    tickets: list[trioshop.Ticket[str]] = []
    start = trio.current_time()
    async with trioshop.open_shop(make, baristas=len(BARISTA_NAMES), queue_size=10) as shop:
        for i, (customer, drink) in enumerate(CUSTOMERS):
            await trio.sleep_until(start + i * ARRIVAL_GAP)
            stats = shop.statistics()
            print(
                f"{stamp()} {customer} orders {a(drink)}"
                f" ({stats.in_progress} being made, {stats.queued} in the queue)"
            )
            tickets.append(await shop.place_order(Order(customer, drink)))
        print(f"{stamp()} last order placed; leaving the block waits for the baristas")
    print(f"{stamp()} the block has ended: the last drink is made, no barista is left")

    print()
    for ticket in tickets:
        print(f"  {ticket.order.customer:<5} {await ticket.result()}")
    stats = shop.statistics()
    print()
    print(f"every ticket done: {all(ticket.done for ticket in tickets)}")
    print(stats)
    if stats.accepted != stats.completed + stats.failed + stats.cancelled:
        raise SystemExit(f"an order was lost: {stats}")
    print(
        f"accepted {stats.accepted} == completed {stats.completed} + failed {stats.failed}"
        f" + cancelled {stats.cancelled}: nothing lost"
    )


if __name__ == "__main__":
    run(main, "Three baristas, ten customers: a worker pool that waits for everyone.")
