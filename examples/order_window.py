"""The order window: an unbuffered channel (Part 1 of the Go coffee-shop guide).

One barista, one window, no counter to leave orders on. A customer hands the order over
the window and can only walk away once the barista has taken it: sender and receiver
meet (a *rendezvous*). In Go::

    window := make(chan Order) // unbuffered
    go barista(window)         // for o := range window { makeDrink(o) }
    window <- order            // blocks until the barista takes it
    close(window)              // ends the barista's range loop

In Trio the same window is ``trio.open_memory_channel(0)``: a send end and a receive
end. Closing is explicit and per end: each customer holds a *clone* of the send end and
closes it with ``async with``; when the last one is closed, the barista's ``async for``
ends (end of channel) with no sentinel value and no argument about who calls ``close``.
The barista and the customers are tasks in one nursery, so the program cannot end while
the barista is still at work (no leaked goroutine).

What to notice:

* Ava arrives before the barista is ready and waits at the window until he is: her
  ``send`` does not return before his ``receive`` does;
* Ben waits while the barista is busy with Ava's espresso: nothing is buffered;
* the barista waits for Cleo too (a rendezvous blocks whichever side comes first);
* when every customer has closed their end, ``async for`` ends and the barista goes home.

Run it instantly in virtual time, or watch it with ``--realtime``::

    python examples/order_window.py
    python examples/order_window.py --realtime
"""

from __future__ import annotations

import attrs
import trio

from _runner import a, run, stamp

SETUP = 0.2  # the barista turns the machine on before he opens the window
RECIPES = {"espresso": 0.15, "latte": 0.2, "mocha": 0.15}
#: (customer, drink, arrives at)
CUSTOMERS = [("Ava", "espresso", 0.05), ("Ben", "latte", 0.1), ("Cleo", "mocha", 0.7)]


@attrs.frozen
class Order:
    customer: str
    drink: str
    arrived: float


async def barista(window: trio.MemoryReceiveChannel[Order]) -> None:
    print(f"{stamp()} barista: switches the machine on ({SETUP:.2f}s)")
    await trio.sleep(SETUP)
    print(f"{stamp()} barista: opens the window and waits for an order")
    ready = trio.current_time()
    async with window:
        async for order in window:
            now = trio.current_time()
            print(
                f"{stamp()} barista: takes {order.customer}'s {order.drink}"
                f" ({order.customer} waited {now - order.arrived:.2f}s,"
                f" the barista waited {now - ready:.2f}s)"
            )
            await trio.sleep(RECIPES[order.drink])
            print(f"{stamp()} barista: {order.drink} for {order.customer}! back to the window")
            ready = trio.current_time()
    print(f"{stamp()} barista: every customer has closed their end: end of channel, home time")


async def customer(
    window: trio.MemorySendChannel[Order], name: str, drink: str, arrives: float
) -> None:
    async with window:  # this customer's clone of the send end, closed on the way out
        await trio.sleep(arrives)
        print(f"{stamp()} {name}: arrives for {a(drink)}, holds the order out at the window")
        await window.send(Order(name, drink, trio.current_time()))
        # No print here: the barista, woken by the same hand-over, is telling the story.


async def main() -> None:
    send, receive = trio.open_memory_channel[Order](0)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(barista, receive)
        async with send:  # main's own send end is closed as soon as the customers have clones
            for name, drink, arrives in CUSTOMERS:
                nursery.start_soon(customer, send.clone(), name, drink, arrives)
    print(f"{stamp()} the nursery has ended: every customer served, the barista gone home")


if __name__ == "__main__":
    run(main, "The order window: an unbuffered channel (a rendezvous) and its end.")
