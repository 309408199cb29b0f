"""The ``trioshop`` command: the rush-hour demo.

``trioshop`` (or ``python -m trioshop``) runs a morning rush through a real
:func:`trioshop.open_shop` on Trio's virtual clock and prints what happened. This is
the only module in trioshop that prints.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
from typing import TYPE_CHECKING

import attrs
import trio
import trio.testing

from ._errors import QueueFull
from ._shop import open_shop
from ._util import check_float, check_int

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._shop import Shop, Ticket

# Drinks on the rush-hour menu and how long each takes to make, in seconds.
MENU: dict[str, float] = {
    "espresso": 30.0,
    "americano": 40.0,
    "cappuccino": 60.0,
    "flat white": 60.0,
    "latte": 75.0,
    "mocha": 90.0,
}


class MachineHiccup(Exception):
    """The espresso machine sputtered; the drink has to be remade (the order fails)."""


@attrs.frozen
class RushHourConfig:
    """The knobs of the rush-hour demo (all times in virtual seconds)."""

    baristas: int = 3
    queue_size: int = 8
    customers: int = 240
    minutes: float = 60.0
    patience: float = 300.0
    impatient_share: float = 0.3
    hiccup_rate: float = 0.02
    seed: int = 1

    def __attrs_post_init__(self) -> None:
        check_int("baristas", self.baristas, minimum=1)
        check_int("queue_size", self.queue_size, minimum=0)
        check_int("customers", self.customers, minimum=0)
        check_float("minutes", self.minutes, strictly_above=0, allow_inf=False)
        check_float("patience", self.patience, strictly_above=0)
        for name in ("impatient_share", "hiccup_rate"):
            value = check_float(name, getattr(self, name), minimum=0)
            if value > 1:
                raise ValueError(f"{name} must be <= 1, got {value!r}")


@attrs.frozen
class Customer:
    number: int
    drink: str
    arrived: float


@attrs.frozen
class RushHourReport:
    """What happened during the rush."""

    config: RushHourConfig
    arrived: int
    served: int
    rejected: int
    turned_away: int
    cancelled: int
    failed: int
    waits: list[float]
    busy_seconds: float
    elapsed: float

    @property
    def utilisation(self) -> float:
        capacity = self.config.baristas * self.elapsed
        return self.busy_seconds / capacity if capacity else 0.0


async def rush_hour(config: RushHourConfig) -> RushHourReport:
    """Run the rush on whatever clock the caller's ``trio.run`` uses."""
    rng = random.Random(config.seed)
    start = trio.current_time()
    waits: list[float] = []
    busy = 0.0
    rejected = turned_away = 0
    tickets: list[Ticket[str]] = []

    async def barista(customer: Customer) -> str:
        nonlocal busy
        began = trio.current_time()
        waits.append(began - customer.arrived)
        # Service times vary around the menu's figure (a gamma with shape 4).
        took = rng.gammavariate(4.0, MENU[customer.drink] / 4.0)
        try:
            await trio.sleep(took)
        finally:
            busy += trio.current_time() - began
        if rng.random() < config.hiccup_rate:
            raise MachineHiccup(customer.drink)
        return customer.drink

    mean_gap = config.minutes * 60.0 / max(config.customers, 1)
    async with open_shop(barista, baristas=config.baristas, queue_size=config.queue_size) as shop:
        async with trio.open_nursery() as doors:
            for number in range(config.customers):
                await trio.sleep(rng.expovariate(1.0 / mean_gap))
                customer = Customer(number, rng.choice(list(MENU)), trio.current_time())
                deadline = customer.arrived + config.patience
                if rng.random() < config.impatient_share:
                    # Glances at the queue and leaves if it is full.
                    try:
                        tickets.append(shop.try_place_order(customer, deadline=deadline))
                    except QueueFull:
                        rejected += 1
                else:
                    # Waits at the door for room, but not past their patience.
                    doors.start_soon(_wait_at_door, shop, customer, deadline, tickets)
        turned_away = config.customers - rejected - len(tickets)
    stats = shop.statistics()
    assert stats.accepted == stats.completed + stats.failed + stats.cancelled
    return RushHourReport(
        config=config,
        arrived=config.customers,
        served=stats.completed,
        rejected=rejected,
        turned_away=turned_away,
        cancelled=stats.cancelled,
        failed=stats.failed,
        waits=waits,
        busy_seconds=busy,
        elapsed=trio.current_time() - start,
    )


async def _wait_at_door(
    shop: Shop[Customer, str], customer: Customer, deadline: float, tickets: list[Ticket[str]]
) -> None:
    # place_order is cancel-atomic: if patience runs out first, no order was placed.
    with trio.move_on_at(deadline):
        tickets.append(await shop.place_order(customer, deadline=deadline))


def _minutes(seconds: float) -> str:
    if math.isnan(seconds):
        return "-"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def format_report(report: RushHourReport) -> str:
    """The human-readable summary printed by ``trioshop``."""
    c = report.config
    lines = [
        f"trioshop rush hour: {c.baristas} baristas, a queue of {c.queue_size}, "
        f"{c.customers} customers over {c.minutes:g} virtual minutes (seed {c.seed})",
        "",
    ]

    def row(label: str, count: int, note: str) -> None:
        share = f"{100 * count / report.arrived:5.1f}%" if report.arrived else "    -"
        lines.append(f"  {label:<12}{count:>6}  {share}  {note}")

    row("served", report.served, "drink made")
    row("rejected", report.rejected, "looked at the full queue and left (QueueFull)")
    row("turned away", report.turned_away, "waited at the door past their patience")
    row("cancelled", report.cancelled, "order given up at its deadline (OrderCancelled)")
    row("failed", report.failed, "machine hiccup (the handler raised)")
    waits = sorted(report.waits)
    if waits:
        p50 = statistics.median(waits)
        p90 = waits[min(len(waits) - 1, int(0.9 * len(waits)))]
        lines += [
            "",
            f"  wait for a barista: mean {_minutes(statistics.fmean(waits))}, "
            f"median {_minutes(p50)}, p90 {_minutes(p90)}, max {_minutes(waits[-1])}",
        ]
    lines.append(
        f"  baristas busy {100 * report.utilisation:.0f}% of the time; "
        f"the shop closed after {_minutes(report.elapsed)} (virtual)"
    )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    defaults = RushHourConfig()
    parser = argparse.ArgumentParser(
        prog="trioshop",
        description=(
            "Run a morning rush hour through trioshop's worker pool on Trio's virtual "
            "clock and print what happened."
        ),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    rush = commands.add_parser("rush-hour", help="the rush-hour demo (the default)")
    for p in (parser, rush):
        p.add_argument("--baristas", type=int, default=defaults.baristas)
        p.add_argument("--queue-size", type=int, default=defaults.queue_size)
        p.add_argument("--customers", type=int, default=defaults.customers)
        p.add_argument("--minutes", type=float, default=defaults.minutes)
        p.add_argument(
            "--patience",
            type=float,
            default=defaults.patience,
            help="seconds a customer waits for their drink (default: %(default)s)",
        )
        p.add_argument("--seed", type=int, default=defaults.seed)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``trioshop`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        config = RushHourConfig(
            baristas=args.baristas,
            queue_size=args.queue_size,
            customers=args.customers,
            minutes=args.minutes,
            patience=args.patience,
            seed=args.seed,
        )
    except (ValueError, TypeError) as exc:
        parser.error(str(exc).replace("_", "-"))
    report = trio.run(rush_hour, config, clock=trio.testing.MockClock(autojump_threshold=0))
    print(format_report(report))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
