"""Back pressure: a flood of customers against a small shop (Part 1 of the Go guide).

Fifty customers arrive in half a second at a shop with two baristas and room for four
orders in the queue. The queue is bounded, so it cannot grow without limit; every
customer who finds it full has two choices, and Go spells both with a channel::

    orders <- order // patient: block until there is room (back pressure)

    select {        // in a hurry: take a place if there is one, else walk away
    case orders <- order:
    default:
        rejected++
    }

In trioshop they are ``await shop.place_order(order)``, which waits its turn
(first come, first served), and ``shop.try_place_order(order)``, which raises
:exc:`trioshop.QueueFull` (a ``trio.WouldBlock``) at once and counts the customer in
``statistics().rejected``.

What to notice:

* the queue never holds more than four orders, however many customers arrive: the
  flood turns into customers waiting at the door, not into unbounded memory;
* a place freed in the queue goes to the patient customer who has waited longest, so
  while anyone is waiting at the door the hurried customers find the queue full and
  walk away;
* every patient customer is served in the end (leaving the block waits for them), and
  the final statistics add up: ``accepted == completed + failed + cancelled`` and
  ``accepted + rejected`` is the number of customers.

The mix of customers and the time each drink takes come from a seeded
``random.Random``, so every run tells the same story.

Run it instantly in virtual time, or watch it with ``--realtime``::

    python examples/back_pressure.py
    python examples/back_pressure.py --realtime
"""

from __future__ import annotations

import random
import statistics

import attrs
import trio

import trioshop
from _runner import run, stamp

CUSTOMERS = 50
ARRIVAL_GAP = 0.01  # one customer every 10 ms
BOARD_EVERY = 5  # the door prints the board every 5 arrivals
BARISTAS = 2
QUEUE_SIZE = 4
SEED = 2026


@attrs.frozen
class Order:
    number: int
    seconds: float  # how long the drink takes to make


@attrs.define
class Tally:
    """What the door saw: who ordered at once, who waited and how long, who left."""

    at_once: int = 0
    waiting: int = 0
    waits: list[float] = attrs.field(factory=list)
    hurried_in: int = 0
    walked_away: int = 0


async def make(order: Order) -> int:
    await trio.sleep(order.seconds)
    return order.number


async def patient(shop: trioshop.Shop[Order, int], order: Order, tally: Tally) -> None:
    arrived = trio.current_time()
    if shop.statistics().queued == QUEUE_SIZE:
        tally.waiting += 1
        if tally.waiting + len(tally.waits) == 1:  # the first one to wait
            print(f"{stamp()} #{order.number:02} (patient) finds the queue full and waits")
            print(f"{stamp()}     at the door, in place_order: back pressure")
        await shop.place_order(order)  # back pressure: returns once the order is accepted
        tally.waiting -= 1
        tally.waits.append(trio.current_time() - arrived)
    else:
        await shop.place_order(order)
        tally.at_once += 1


def hurried(shop: trioshop.Shop[Order, int], order: Order, tally: Tally) -> None:
    try:
        shop.try_place_order(order)
    except trioshop.QueueFull:
        tally.walked_away += 1
        if tally.walked_away == 1:
            print(f"{stamp()} #{order.number:02} (hurried) gets QueueFull from try_place_order:")
            print(f"{stamp()}     walks away (counted in statistics().rejected)")
    else:
        tally.hurried_in += 1


def board(shop: trioshop.Shop[Order, int], tally: Tally, arrived: int) -> None:
    stats = shop.statistics()
    print(
        f"{stamp()} board: {arrived:2} arrived | making {stats.in_progress}"
        f" | queue {stats.queued}/{stats.queue_size} | at the door {stats.waiting_to_order:2}"
        f" | made {stats.completed:2} | walked away {stats.rejected:2}"
    )


async def main() -> None:
    rng = random.Random(SEED)
    tally = Tally()
    patient_count = 0
    print(
        f"{stamp()} {CUSTOMERS} customers, one every {ARRIVAL_GAP * 1000:.0f} ms;"
        f" {BARISTAS} baristas, queue of {QUEUE_SIZE}"
    )
    start = trio.current_time()
    async with trioshop.open_shop(make, baristas=BARISTAS, queue_size=QUEUE_SIZE) as shop:
        async with trio.open_nursery() as door:
            for i in range(CUSTOMERS):
                await trio.sleep_until(start + i * ARRIVAL_GAP)
                if i % BOARD_EVERY == 0:
                    board(shop, tally, i)
                order = Order(i + 1, rng.uniform(0.05, 0.07))
                if rng.random() < 0.5:
                    patient_count += 1
                    door.start_soon(patient, shop, order, tally)
                else:
                    hurried(shop, order, tally)
            board(shop, tally, CUSTOMERS)
            print(f"{stamp()} the flood is over; the patient customers still at the door wait")
        board(shop, tally, CUSTOMERS)
        print(f"{stamp()} every patient customer is in; leaving the block drains the queue")
    print(f"{stamp()} the block has ended: every accepted order is made")
    board(shop, tally, CUSTOMERS)

    stats = shop.statistics()
    waits = tally.waits
    print()
    print(
        f"patient: {patient_count}, all served: {tally.at_once} ordered at once,"
        f" {len(waits)} waited at the door"
        f" (mean {statistics.fmean(waits):.2f}s, longest {max(waits):.2f}s)"
        if waits
        else f"patient: {patient_count}, all ordered at once"
    )
    print(
        f"hurried: {CUSTOMERS - patient_count}: {tally.hurried_in} found a place,"
        f" {tally.walked_away} walked away"
    )
    print(stats)
    checks = {
        "accepted == completed + failed + cancelled": (
            stats.accepted == stats.completed + stats.failed + stats.cancelled
        ),
        "accepted + rejected == customers": stats.accepted + stats.rejected == CUSTOMERS,
        "rejected == walked away": stats.rejected == tally.walked_away,
        "nobody left waiting": tally.waiting == 0 and stats.waiting_to_order == 0,
    }
    for name, ok in checks.items():
        print(f"  {'ok    ' if ok else 'FAILED'} {name}")
    if not all(checks.values()):
        raise SystemExit("the books do not balance")


if __name__ == "__main__":
    run(main, "Back pressure: fifty customers, a bounded queue, and two ways to wait.")
