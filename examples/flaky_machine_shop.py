"""Part 4 of the guide, "When things break": a flaky machine inside the shop.

The shop of Part 1 (:func:`trioshop.open_shop`), with an espresso machine that fails one
shot in three and breaks down completely for a while. Each barista pulls shots through
one shared :class:`trioshop.CircuitBreaker`, and retries a failed or refused shot with
:func:`trioshop.retry` and a jittered :class:`trioshop.Backoff`.

What to notice:

- a single failed shot is simply pulled again after a short, jittered pause;
- when the machine breaks down, the breaker opens after three failures in a row and
  every barista is refused at once (``CircuitOpen``) instead of waiting at a dead
  machine; their retries back off until a half-open trial shot succeeds;
- an order whose retries run out fails on its ticket, with a note listing every attempt:
  nothing is lost, every ticket ends in a drink or an error;
- the breaker holds nothing while a shot is pulled: two baristas use the machine at once.
"""

from __future__ import annotations

import random

import trio

import trioshop
from _runner import now, run, stamp


class MachineError(Exception):
    pass


def on_state_change(old: trioshop.BreakerState, new: trioshop.BreakerState) -> None:
    print(f"{stamp()} ** breaker {old.value} -> {new.value}")


async def main() -> None:
    breaker = trioshop.CircuitBreaker(
        failure_threshold=3, reset_timeout=0.5, on_state_change=on_state_change
    )
    backoff = trioshop.Backoff(initial=0.1, multiplier=2, max_delay=1.0, jitter=0.25)

    # Seeded randomness per order, so the story does not depend on the order in which
    # Trio happens to schedule the two baristas: every run prints the same.
    rngs = {f"espresso #{i}": random.Random(i) for i in range(1, 9)}

    async def pull_shot(order: str) -> str:
        await trio.sleep(0.2)
        if 0.6 <= now() < 1.6:
            raise MachineError("the machine is down")
        if rngs[order].random() < 1 / 3:
            raise MachineError("the shot ran too fast")
        return f"{order}, ready"

    async def through_breaker(order: str) -> str:
        return await breaker.call(pull_shot, order)

    async def barista(order: str) -> str:
        def on_retry(attempt: int, exc: BaseException, delay: float) -> None:
            print(f"{stamp()}   {order}, try {attempt}: {exc}; again in {delay:.2f}s")

        return await trioshop.retry(
            through_breaker,
            order,
            attempts=5,
            backoff=backoff,
            retry_on=(MachineError, trioshop.CircuitOpen),
            rng=rngs[order],
            on_retry=on_retry,
        )

    orders = [f"espresso #{i}" for i in range(1, 9)]
    async with trioshop.open_shop(barista, baristas=2, queue_size=4) as shop:
        tickets = [await shop.place_order(order) for order in orders]
    print(f"{stamp()} shop closed; the tickets:")
    for order, ticket in zip(orders, tickets, strict=True):
        try:
            print(f"  {order}: {await ticket.result()}")
        except (MachineError, trioshop.CircuitOpen) as exc:
            print(f"  {order}: failed: {exc}")
            print("    " + exc.__notes__[0].replace("\n", "\n    "))
    print(f"{stamp()} {breaker.statistics()}")


if __name__ == "__main__":
    run(main, "breaker and retry together around a flaky machine inside the shop")
