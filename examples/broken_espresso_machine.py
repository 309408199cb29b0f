"""Part 4 of the guide, "When things break": the broken espresso machine.

A :class:`trioshop.CircuitBreaker` hangs an *out of order* sign on a machine that keeps
failing (sony/gobreaker in Go). The machine here is broken for its first 2.5 seconds
and then works again.

What to notice:

- after 3 failures in a row the breaker opens: orders are turned away at once with
  ``CircuitOpen`` and the machine is not touched (no time is wasted on it);
- once ``reset_timeout`` has passed, one trial order may use it (half-open); a failure
  re-opens the breaker for another full timeout, a success closes it;
- every transition is printed from ``on_state_change``.
"""

from __future__ import annotations

import trio

import trioshop
from _runner import now, run, stamp


class MachineError(Exception):
    pass


async def pull_shot(order: int) -> str:
    await trio.sleep(0.1)
    if now() < 2.5:
        raise MachineError("no pressure")
    return f"espresso #{order}"


def on_state_change(old: trioshop.BreakerState, new: trioshop.BreakerState) -> None:
    print(f"{stamp()} ** breaker {old.value} -> {new.value}")


async def main() -> None:
    breaker = trioshop.CircuitBreaker(
        failure_threshold=3, reset_timeout=1.0, on_state_change=on_state_change
    )
    for order in range(1, 15):
        try:
            shot = await breaker.call(pull_shot, order)
        except MachineError as exc:
            print(f"{stamp()} order {order}: machine failed ({exc})")
        except trioshop.CircuitOpen as exc:
            print(f"{stamp()} order {order}: out of order, retry in {exc.retry_after:.2f}s")
        else:
            print(f"{stamp()} order {order}: {shot}")
        await trio.sleep(0.2)
    print(f"{stamp()} {breaker!r}")
    print(f"{stamp()} {breaker.statistics()}")


if __name__ == "__main__":
    run(main, "a circuit breaker around a broken espresso machine")
