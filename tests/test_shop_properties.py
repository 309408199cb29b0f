"""Property: whatever the workload and however the shop stops, nothing is lost.

Random workloads (service times, failures, per-order deadlines, withdrawals, patient and
impatient customers) x a random moment to stop x each way of stopping (close, cancel,
grace period, outer cancel scope, an exception in the body). After the block:
``accepted == completed + failed + cancelled``, every ticket is done, each ticket's
outcome agrees with the statistics, no handler is still running and no task is left.
Hypothesis also drives Trio's scheduler, so interleavings are explored and shrunk.
"""

from __future__ import annotations

from typing import Any

import attrs
import trio
import trio.testing
from hypothesis import example, given
from hypothesis import strategies as st

import trioshop
from trioshop import OrderCancelled, QueueFull, ShopClosed

STOPS = ["close", "cancel", "grace", "outer", "body_error"]
# Which cancellation reasons each way of stopping may produce.
REASONS = {
    "close": {"withdrawn", "deadline passed"},
    "grace": {"withdrawn", "deadline passed", "grace period over"},
    "cancel": {"withdrawn", "deadline passed", "shop cancelled"},
    "outer": {"withdrawn", "deadline passed", "shop cancelled"},
    "body_error": {"withdrawn", "deadline passed", "shop cancelled"},
}

times = st.integers(min_value=0, max_value=8).map(lambda n: n / 2)  # 0, 0.5, ... 4.0
# Customers mostly arrive together, so queues fill and customers block.
arrivals = st.sampled_from([0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 3.0])


@attrs.frozen
class Order:
    number: int
    service: float
    fails: bool
    deadline_in: float | None
    withdraw_after: float | None
    arrives_after: float
    impatient: bool  # uses try_place_order instead of waiting for room
    # a helper task in the handler fails when the handler is cancelled, so the handler
    # raises a group of Cancelled and that failure
    cleanup_fails: bool = False


orders = st.builds(
    Order,
    number=st.just(0),
    service=times,
    fails=st.booleans(),
    deadline_in=st.none() | times,
    withdraw_after=st.none() | times,
    arrives_after=arrivals,
    impatient=st.booleans(),
    cleanup_fails=st.booleans(),
)


@attrs.frozen
class Workload:
    baristas: int
    queue_size: int
    orders: list[Order]
    stop_at: float
    stop: str
    grace: float


workloads = st.builds(
    Workload,
    baristas=st.integers(1, 4),
    queue_size=st.integers(0, 4),
    orders=st.lists(orders, max_size=16).map(
        lambda os: [attrs.evolve(o, number=i) for i, o in enumerate(os)]
    ),
    stop_at=st.integers(0, 40).map(lambda n: n / 2),
    stop=st.sampled_from(STOPS),
    grace=times,
)


class Boom(Exception):
    pass


class BodyError(Exception):
    pass


class CleanupFails(Exception):
    pass


@attrs.define(eq=False)
class NoIdleRoom(trio.abc.Instrument):
    """After every task step: never a blocked customer beside room or an idle barista,
    never an idle barista beside a queued order, never over capacity, and every accepted
    order counted exactly once (queued, in progress, or in one outcome)."""

    shop: trioshop.Shop[Any, Any] | None = None
    steps: int = 0
    violation: trioshop.ShopStatistics | None = None

    def after_task_step(self, task: trio.lowlevel.Task) -> None:
        # Trio disables an instrument that raises, so record the first violation instead.
        if self.shop is None or self.violation is not None:
            return
        self.steps += 1
        s = self.shop.statistics()
        if (
            s.queued > s.queue_size
            or s.in_progress + s.idle_baristas > s.baristas
            or (s.idle_baristas and s.queued)
            or s.accepted != s.queued + s.in_progress + s.completed + s.failed + s.cancelled
            or (s.waiting_to_order and (s.closed or s.idle_baristas or s.queued < s.queue_size))
        ):
            self.violation = s


def run_workload(w: Workload) -> None:
    monitor = NoIdleRoom()
    running = 0
    started: dict[int, float] = {}
    tickets: list[trioshop.Ticket[int]] = []
    rejected = 0

    async def handler(order: Order) -> int:
        nonlocal running
        started[order.number] = trio.current_time()
        running += 1
        try:
            if order.cleanup_fails:
                await make_with_a_helper(order)
            else:
                await trio.sleep(order.service)
            if order.fails:
                raise Boom(order.number)
            return order.number
        finally:
            running -= 1

    async def make_with_a_helper(order: Order) -> None:
        finished = False

        async def helper() -> None:
            try:
                await trio.sleep_forever()
            finally:
                if not finished:
                    raise CleanupFails(order.number)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(helper)
            await trio.sleep(order.service)
            finished = True
            nursery.cancel_scope.cancel()

    async def withdraw(ticket: trioshop.Ticket[int], after: float) -> None:
        await trio.sleep(after)
        ticket.cancel()

    async def customers(shop: trioshop.Shop[Order, int], nursery: trio.Nursery) -> None:
        nonlocal rejected
        for order in w.orders:
            await trio.sleep(order.arrives_after)
            deadline = (
                None if order.deadline_in is None else trio.current_time() + order.deadline_in
            )
            try:
                if order.impatient:
                    ticket = shop.try_place_order(order, deadline=deadline)
                else:
                    ticket = await shop.place_order(order, deadline=deadline)
            except QueueFull:
                rejected += 1
                continue
            except ShopClosed:
                return
            tickets.append(ticket)
            if order.withdraw_after is not None:
                nursery.start_soon(withdraw, ticket, order.withdraw_after)

    async def main() -> None:
        grace = w.grace if w.stop == "grace" else None
        with trio.CancelScope() as outer:
            try:
                async with trioshop.open_shop(
                    handler, baristas=w.baristas, queue_size=w.queue_size, grace_period=grace
                ) as shop:
                    monitor.shop = shop
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(customers, shop, nursery)
                        await trio.sleep(w.stop_at)
                        if w.stop == "close":
                            shop.close()  # customers finish on their own (ShopClosed)
                        elif w.stop == "cancel":
                            shop.cancel()
                            nursery.cancel_scope.cancel()
                        elif w.stop == "grace":
                            nursery.cancel_scope.cancel()
                        elif w.stop == "outer":
                            outer.cancel()
                        else:
                            raise BodyError
            except* BodyError:  # raised in our nursery, so it arrives in a group
                assert w.stop == "body_error"
            else:
                assert w.stop != "body_error"
        check(shop)

    def check(shop: trioshop.Shop[Order, int]) -> None:
        assert monitor.violation is None
        assert monitor.steps > 0
        stats = shop.statistics()
        assert stats.accepted == stats.completed + stats.failed + stats.cancelled
        assert stats.accepted == len(tickets)
        assert stats.rejected == rejected
        assert (stats.queued, stats.in_progress, stats.idle_baristas) == (0, 0, 0)
        assert stats.waiting_to_order == 0
        assert running == 0
        completed = failed = cancelled = 0
        for ticket in tickets:
            assert ticket.done
            result = ticket.outcome()
            order: Order = ticket.order
            error: Any = getattr(result, "error", None)
            if error is None:
                completed += 1
                assert result.unwrap() == order.number
                assert not order.fails
            elif isinstance(error, Boom):
                failed += 1
                assert order.fails
            elif isinstance(error, ExceptionGroup):
                failed += 1  # cancelled while being made, and the helper failed
                assert order.cleanup_fails
                assert error.split(CleanupFails)[1] is None
            else:
                assert isinstance(error, OrderCancelled)
                cancelled += 1
                assert error.reason in REASONS[w.stop], error.reason
            if order.number in started and ticket.deadline is not None:
                assert started[order.number] < ticket.deadline  # never started late
        assert (completed, failed, cancelled) == (stats.completed, stats.failed, stats.cancelled)
        assert trio.lowlevel.current_task().child_nurseries == []

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0), instruments=[monitor])


def patient(n: int, service: float = 1.0) -> list[Order]:
    return [Order(i, service, False, None, None, 0.0, False) for i in range(n)]


@example(Workload(1, 1, patient(4), stop_at=10.0, stop="close", grace=0.0))
@example(Workload(2, 0, patient(5), stop_at=10.0, stop="close", grace=0.0))
@example(
    Workload(
        1,
        1,
        [*patient(3), Order(3, 1.0, False, None, 0.5, 0.0, False), *patient(2)[1:]],
        stop_at=10.0,
        stop="close",
        grace=0.0,
    )
)
@given(workloads)
def test_open_shop_loses_nothing_however_it_stops(w: Workload) -> None:
    run_workload(w)


@given(st.lists(orders, max_size=12), st.sampled_from(STOPS))
def test_open_shop_loses_nothing_with_one_barista_and_no_queue(os: list[Order], stop: str) -> None:
    numbered = [attrs.evolve(o, number=i) for i, o in enumerate(os)]
    run_workload(Workload(1, 0, numbered, stop_at=3.0, stop=stop, grace=1.0))
