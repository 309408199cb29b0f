"""Closing time: graceful shutdown (Part 1 of the Go coffee-shop guide).

At closing time the shop locks the door, and the baristas make every order already
taken before they go home. In Go that is a ritual in three steps, each easy to get
wrong: stop the producers, ``close(orders)`` exactly once from the sending side, then
``wg.Wait()``; and a deadline on the shutdown needs a ``context.WithTimeout`` checked by
every worker::

    close(orders)                          // no more orders; workers drain the channel
    done := make(chan struct{})
    go func() { wg.Wait(); close(done) }()
    select {
    case <-done:                           // drained in time
    case <-time.After(gracePeriod):        // workers must watch ctx to actually stop
        cancel()
    }

With trioshop, ``shop.close()`` (or simply leaving the ``async with`` block) locks the
door: customers still waiting at the door get :exc:`trioshop.ShopClosed`, accepted
orders are all made, and the block ends when the last barista has gone home. With
``open_shop(..., grace_period=...)`` whatever is not done that many seconds after the
block ended is cancelled, queued orders and orders being made alike, and every ticket
says so: :exc:`trioshop.OrderCancelled` with the reason ``"grace period over"``.

What to notice:

* first shop: Zoe, waiting at the door because the queue is full, is turned away by
  ``close()`` (her order was never accepted); the four accepted orders are all made
  and the block waits for them;
* second shop: the block ends at 0.38s, the grace period of 0.20s ends at 0.58s; the two
  orders being made then are cancelled in the middle, the ones still queued are never
  started, and each ticket reports its own outcome;
* both times ``accepted == completed + failed + cancelled``: nothing is lost.

Run it instantly in virtual time, or watch it with ``--realtime``::

    python examples/closing_time.py
    python examples/closing_time.py --realtime
"""

from __future__ import annotations

import attrs
import trio

import trioshop
from _runner import a, now, run, stamp

RECIPES = {
    "espresso": 0.11,
    "cortado": 0.13,
    "latte": 0.19,
    "flat white": 0.17,
    "mocha": 0.23,
    "cappuccino": 0.16,
}


@attrs.frozen
class Order:
    customer: str
    drink: str


@attrs.define
class Counter:
    """The handler, keeping notes so the outcome table can say what happened."""

    started: set[Order] = attrs.field(factory=set)

    async def make(self, order: Order) -> str:
        self.started.add(order)
        print(f"{stamp()}     starts {order.customer}'s {order.drink}")
        await trio.sleep(RECIPES[order.drink])
        print(f"{stamp()}     {order.drink} for {order.customer}, ready")
        return f"{order.drink}, ready at {now():.2f}s"


def report(
    shop: trioshop.Shop[Order, str], tickets: list[trioshop.Ticket[str]], counter: Counter
) -> None:
    """Print each ticket's outcome and check that nothing was lost."""
    for ticket in tickets:
        order = ticket.order
        result = ticket.outcome()  # every ticket is done once the block has ended
        try:
            drink = result.unwrap()
        except trioshop.OrderCancelled as exc:
            when = "while being made" if order in counter.started else "never started"
            print(f"  {order.customer:<5} OrderCancelled({exc.reason!r}), {when}")
        else:
            print(f"  {order.customer:<5} made: {drink}")
    stats = shop.statistics()
    print(
        f"  accepted {stats.accepted} == completed {stats.completed}"
        f" + failed {stats.failed} + cancelled {stats.cancelled}"
    )
    if stats.accepted != stats.completed + stats.failed + stats.cancelled:
        raise SystemExit(f"an order was lost: {stats}")


async def turned_away_at_the_door(shop: trioshop.Shop[Order, str]) -> None:
    stats = shop.statistics()
    print(f"{stamp()} Zoe wants a latte; the queue is full ({stats.queued}/{stats.queue_size})")
    try:
        await shop.place_order(Order("Zoe", "latte"))
    except trioshop.ShopClosed as exc:
        print(f"{stamp()} Zoe is turned away: ShopClosed({str(exc)!r})")


async def lock_the_door() -> None:
    print(f"{stamp()} --- first shop: close() and leaving the block drain the queue ---")
    counter = Counter()
    tickets: list[trioshop.Ticket[str]] = []
    async with trioshop.open_shop(counter.make, baristas=2, queue_size=2) as shop:
        async with trio.open_nursery() as door:
            for customer, drink in [
                ("Ava", "latte"),
                ("Ben", "espresso"),
                ("Cleo", "flat white"),
                ("Dan", "cortado"),
            ]:
                print(f"{stamp()} {customer} orders {a(drink)}")
                tickets.append(await shop.place_order(Order(customer, drink)))
                await trio.sleep(0.01)
            door.start_soon(turned_away_at_the_door, shop)
            await trio.sleep(0.06)
            print(f"{stamp()} closing time: shop.close()")
            shop.close()
            try:
                shop.try_place_order(Order("Yan", "mocha"))
            except trioshop.ShopClosed:
                print(f"{stamp()} Yan tries the door too late: ShopClosed")
        stats = shop.statistics()
        print(
            f"{stamp()} leaving the block with {stats.in_progress} drinks being made"
            f" and {stats.queued} queued: it waits for them"
        )
    print(f"{stamp()} the block has ended, the queue is drained")
    report(shop, tickets, counter)


async def grace_period() -> None:
    print(f"{stamp()} --- second shop: grace_period=0.2 cancels what is not done ---")
    counter = Counter()
    tickets: list[trioshop.Ticket[str]] = []
    async with trioshop.open_shop(
        counter.make, baristas=2, queue_size=4, grace_period=0.2
    ) as shop:
        for customer, drink in [
            ("Eve", "espresso"),
            ("Finn", "cappuccino"),
            ("Gia", "mocha"),
            ("Hugo", "latte"),
            ("Ivy", "cortado"),
            ("Jack", "flat white"),
        ]:
            print(f"{stamp()} {customer} orders {a(drink)}")
            tickets.append(await shop.place_order(Order(customer, drink)))
            await trio.sleep(0.01)
        stats = shop.statistics()
        print(
            f"{stamp()} leaving the block with {stats.in_progress} drinks being made and"
            f" {stats.queued} queued: 0.20s of grace from now"
        )
    print(f"{stamp()} the block has ended: the grace period is over")
    report(shop, tickets, counter)


async def main() -> None:
    await lock_the_door()
    print()
    await grace_period()


if __name__ == "__main__":
    run(main, "Closing time: draining the queue, and a grace period that cancels the rest.")
