"""The order queue: a buffered channel (Part 1 of the Go coffee-shop guide).

The shop puts up a rail with room for three order slips. A customer clips the slip to the
rail and leaves at once, without waiting for the barista, until the rail is full; the
fourth customer has to wait for a free place. In Go::

    orders := make(chan Order, 3) // buffered: room for three
    orders <- order               // returns at once while there is room, blocks when full
    len(orders), cap(orders)      // how full the rail is

In Trio it is ``trio.open_memory_channel(3)``, and ``statistics()`` on either end reports
the rail: ``current_buffer_used``, ``max_buffer_size``, ``tasks_waiting_send`` (customers
waiting for a place), ``tasks_waiting_receive`` (baristas waiting for an order) and how
many send and receive ends are still open.

What to notice:

* while the barista sets up, Ava, Ben and Cleo drop their slips and leave at once;
* Dan finds the rail full (3/3) and waits: that is back pressure, a bounded buffer
  never grows;
* the moment the barista takes Ava's slip, Dan's slip slides into the freed place (the
  rail is 3/3 again, nobody waiting);
* Eve arrives when there is room and leaves at once;
* when all customers have closed their send ends, the barista finishes what is on the
  rail and then his ``async for`` ends: closing never throws buffered orders away.

Run it instantly in virtual time, or watch it with ``--realtime``::

    python examples/order_queue.py
    python examples/order_queue.py --realtime
"""

from __future__ import annotations

import attrs
import trio

from _runner import run, stamp

RAIL = 3  # the buffer: room for three slips
SETUP = 0.3  # the barista sets up before taking the first slip
DRINK = 0.1  # every drink takes this long
#: (customer, drink, arrives at)
CUSTOMERS = [
    ("Ava", "latte", 0.05),
    ("Ben", "mocha", 0.1),
    ("Cleo", "cortado", 0.15),
    ("Dan", "flat white", 0.2),
    ("Eve", "cappuccino", 0.45),
]


@attrs.frozen
class Order:
    customer: str
    drink: str


def rail(stats: trio.MemoryChannelStatistics) -> str:
    """``rail 2/3``: how full the buffer is."""
    return f"rail {stats.current_buffer_used}/{stats.max_buffer_size}"


async def barista(orders: trio.MemoryReceiveChannel[Order]) -> None:
    print(f"{stamp()} barista: sets up the machine ({SETUP:.2f}s)")
    await trio.sleep(SETUP)
    async with orders:
        before = orders.statistics()
        async for order in orders:
            after = orders.statistics()
            print(f"{stamp()} barista: takes {order.customer}'s {order.drink} ({rail(after)})")
            if after.tasks_waiting_send < before.tasks_waiting_send:
                print(
                    f"{stamp()}          the waiting customer's slip slid into the freed place"
                    f" ({after.tasks_waiting_send} still waiting)"
                )
            await trio.sleep(DRINK)
            before = orders.statistics()
        print(f"{stamp()} barista: the rail is empty and every send end is closed:")
        print(f"{stamp()}          {orders.statistics()}")
        print(f"{stamp()} barista: end of channel, home time")


async def customer(
    orders: trio.MemorySendChannel[Order], name: str, drink: str, arrives: float
) -> None:
    async with orders:  # this customer's clone of the send end
        await trio.sleep(arrives)
        stats = orders.statistics()
        if stats.current_buffer_used == stats.max_buffer_size:
            print(f"{stamp()} {name}: the rail is full ({rail(stats)}), waits for a free place")
            await orders.send(Order(name, drink))
            # No print here: the barista's take woke us, and the barista tells it.
        else:
            await orders.send(Order(name, drink))
            on_rail = rail(orders.statistics())
            print(f"{stamp()} {name}: clips a {drink} slip on the rail, leaves now ({on_rail})")


async def main() -> None:
    send, receive = trio.open_memory_channel[Order](RAIL)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(barista, receive)
        async with send:
            for name, drink, arrives in CUSTOMERS:
                nursery.start_soon(customer, send.clone(), name, drink, arrives)
    print(f"{stamp()} every slip made, every task finished")


if __name__ == "__main__":
    run(main, "The order queue: a buffered channel that pushes back when it is full.")
