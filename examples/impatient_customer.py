"""The impatient customer: cancel scopes and per-order deadlines (Part 1 of the Go guide).

Go bounds waiting with ``context.WithTimeout`` and hands the context to the worker, which
has to check it before it starts and pass it to every blocking call::

    ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
    defer cancel()
    orders <- Order{Ctx: ctx, Drink: "latte"}
    select {
    case drink := <-ready:      // served in time
    case <-ctx.Done():          // gave up; the barista only stops if it watches ctx
    }

Trio has two tools for the two halves of that:

* **the customer's patience** is a cancel scope around the wait:
  ``with trio.move_on_after(0.2): await ticket.result()``. Moving on only stops the
  *waiting*; the customer then calls ``ticket.cancel()`` to withdraw the order. A queued
  order leaves the queue at once; an order being made has its handler cancelled at its
  next checkpoint. Either way the ticket ends as ``OrderCancelled("withdrawn")``;
* **the order's own deadline** travels with the order:
  ``shop.place_order(order, deadline=trio.current_time() + 0.2)``. The shop runs the
  handler inside a cancel scope with that deadline (no ``ctx`` to pass around, every
  checkpoint in the handler honours it), and an order still queued at its deadline is
  never started. Either way the ticket ends as ``OrderCancelled("deadline passed")``.

What to notice:

* Eli gives up while his latte is still queued: it leaves the queue, so Fay, behind
  him, is served sooner and his latte is never made;
* Gus gives up while his cold brew is being made: the barista stops at once, and Gus
  learns the outcome only when the barista has really stopped;
* Hal's mocha is cancelled mid-pour at its deadline, Ivy's latte, queued behind it,
  is cancelled at *its* deadline without ever being started, and Jo's espresso, with
  time to spare, is made.

Run it instantly in virtual time, or watch it with ``--realtime``::

    python examples/impatient_customer.py
    python examples/impatient_customer.py --realtime
"""

from __future__ import annotations

import attrs
import trio

import trioshop
from _runner import a, run, stamp

RECIPES = {
    "pour-over": 0.4,
    "latte": 0.1,
    "espresso": 0.1,
    "cold brew": 0.3,
    "mocha": 0.3,
}


@attrs.frozen(repr=False)
class Order:
    customer: str
    drink: str

    def __repr__(self) -> str:
        return f"{self.customer}'s {self.drink}"


async def make(order: Order) -> str:
    """The handler. Its ``trio.sleep`` is where a withdrawal or a deadline reaches it."""
    print(f"{stamp()}     barista starts {order.customer}'s {order.drink}")
    try:
        await trio.sleep(RECIPES[order.drink])
    except trio.Cancelled:
        print(f"{stamp()}     barista stops: {order.customer}'s {order.drink} is poured away")
        raise  # never swallow Cancelled: the shop reports the order as cancelled
    print(f"{stamp()}     barista: {order.drink} for {order.customer}")
    return order.drink


@attrs.frozen
class Customer:
    name: str
    drink: str
    arrives: float
    #: How long they wait for the drink before giving up (``None``: as long as it takes).
    patience: float | None = None
    #: The order's deadline, relative to when it is placed (``None``: no deadline).
    worthless_after: float | None = None


async def visit(shop: trioshop.Shop[Order, str], who: Customer) -> None:
    name, drink, patience = who.name, who.drink, who.patience
    await trio.sleep(who.arrives)
    deadline = None if who.worthless_after is None else trio.current_time() + who.worthless_after
    if patience is not None:
        mood = f", waits at most {patience:.2f}s"
    elif who.worthless_after is not None:
        mood = f", worthless after {who.worthless_after:.2f}s: a deadline"
    else:
        mood = ", happy to wait"
    print(f"{stamp()} {name} orders {a(drink)}{mood}")
    ticket = await shop.place_order(Order(name, drink), deadline=deadline)
    with trio.move_on_after(patience if patience is not None else float("inf")) as waiting:
        try:
            made = await ticket.result()
        except trioshop.OrderCancelled as exc:
            print(f"{stamp()} {name}'s ticket: OrderCancelled({exc.reason!r})")
        else:
            print(f"{stamp()} {name} gets {a(made)}")
    if waiting.cancelled_caught:
        print(f"{stamp()} {name} gives up waiting for {ticket!r}: ticket.cancel()")
        ticket.cancel()
        try:
            await ticket.result()
        except trioshop.OrderCancelled as exc:
            print(f"{stamp()} {name}'s ticket: OrderCancelled({exc.reason!r})")


async def impatience() -> None:
    print(f"{stamp()} --- the customer's patience: move_on_after + ticket.cancel() ---")
    async with (
        trioshop.open_shop(make, baristas=1, queue_size=3) as shop,
        trio.open_nursery() as customers,
    ):
        for who in [
            Customer("Dee", "pour-over", arrives=0.0),
            Customer("Eli", "latte", arrives=0.01, patience=0.2),
            Customer("Fay", "espresso", arrives=0.02),
            Customer("Gus", "cold brew", arrives=0.03, patience=0.5),
        ]:
            customers.start_soon(visit, shop, who)
    print_statistics(shop)


async def deadlines() -> None:
    print(f"{stamp()} --- the order's deadline: place_order(..., deadline=...) ---")
    async with (
        trioshop.open_shop(make, baristas=1, queue_size=3) as shop,
        trio.open_nursery() as customers,
    ):
        for who in [
            Customer("Hal", "mocha", arrives=0.0, worthless_after=0.2),
            Customer("Ivy", "latte", arrives=0.01, worthless_after=0.15),
            Customer("Jo", "espresso", arrives=0.02, worthless_after=0.5),
        ]:
            customers.start_soon(visit, shop, who)
    print_statistics(shop)


def print_statistics(shop: trioshop.Shop[Order, str]) -> None:
    stats = shop.statistics()
    print(
        f"{stamp()} accepted {stats.accepted} == completed {stats.completed}"
        f" + failed {stats.failed} + cancelled {stats.cancelled}"
    )
    if stats.accepted != stats.completed + stats.failed + stats.cancelled:
        raise SystemExit(f"an order was lost: {stats}")


async def main() -> None:
    await impatience()
    print()
    await deadlines()


if __name__ == "__main__":
    run(main, "The impatient customer: cancel scopes, ticket.cancel() and order deadlines.")
