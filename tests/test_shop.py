"""The shop: one test (at least) per promise of DESIGN.md's worker pool, on virtual time."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
import trio
import trio.lowlevel
import trio.testing

import trioshop
from trioshop import OrderCancelled, QueueFull, ShopClosed

# --- helpers ---------------------------------------------------------------------------


async def brew(order: float) -> float:
    """A handler that takes ``order`` seconds and returns it."""
    await trio.sleep(order)
    return order


class Gate:
    """A handler whose orders wait until the test lets them through."""

    def __init__(self) -> None:
        self.started: list[Any] = []
        self.finished: list[Any] = []
        self.release = trio.Event()

    async def __call__(self, order: Any) -> Any:
        self.started.append(order)
        await self.release.wait()
        self.finished.append(order)
        return order


def assert_invariant(shop: trioshop.Shop[Any, Any], tickets: list[trioshop.Ticket[Any]]) -> None:
    stats = shop.statistics()
    assert stats.accepted == stats.completed + stats.failed + stats.cancelled
    assert stats.queued == stats.in_progress == stats.idle_baristas == 0
    assert stats.waiting_to_order == 0
    assert stats.closed
    assert all(ticket.done for ticket in tickets)


def tasks_below(task: trio.lowlevel.Task) -> int:
    return sum(
        1 + tasks_below(child) for nursery in task.child_nurseries for child in nursery.child_tasks
    )


# --- 1. baristas are tasks of the shop, none outlives the block --------------------------


async def test_open_shop_baristas_live_inside_the_block() -> None:
    me = trio.lowlevel.current_task()
    nurseries_before = list(me.child_nurseries)
    gate = Gate()
    async with trioshop.open_shop(gate, baristas=3) as shop:
        await trio.testing.wait_all_tasks_blocked()
        assert tasks_below(me) == 1 + 3  # the crew's task and its three baristas
        assert shop.statistics().idle_baristas == 3
        gate.release.set()
    assert tasks_below(me) == 0
    assert me.child_nurseries == nurseries_before


async def test_open_shop_many_baristas_work_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with trioshop.open_shop(brew, baristas=4, queue_size=8) as shop:
        tickets = [await shop.place_order(1.0) for _ in range(12)]
    assert trio.current_time() == 3.0  # 12 one-second orders, 4 at a time
    assert [await ticket.result() for ticket in tickets] == [1.0] * 12


# --- 2. queue_size -------------------------------------------------------------------------


@pytest.mark.parametrize("queue_size", [0, 1, 5])
async def test_Shop_queue_holds_queue_size_beyond_the_baristas(queue_size: int) -> None:
    gate = Gate()
    async with trioshop.open_shop(gate, baristas=2, queue_size=queue_size) as shop:
        await trio.testing.wait_all_tasks_blocked()
        accepted = [shop.try_place_order(i) for i in range(2 + queue_size)]
        with pytest.raises(QueueFull):
            shop.try_place_order("one too many")
        stats = shop.statistics()
        assert (stats.queued, stats.accepted, stats.rejected) == (queue_size, 2 + queue_size, 1)
        gate.release.set()
    assert [await ticket.result() for ticket in accepted] == list(range(2 + queue_size))


async def test_Shop_rendezvous_hands_each_order_to_a_free_barista() -> None:
    gate = Gate()
    async with trioshop.open_shop(gate, baristas=1, queue_size=0) as shop:
        await trio.testing.wait_all_tasks_blocked()
        shop.try_place_order("first")
        with pytest.raises(QueueFull):  # the barista has it; nowhere to wait
            shop.try_place_order("second")
        await trio.testing.wait_all_tasks_blocked()
        assert gate.started == ["first"]
        gate.release.set()


# --- 3. back pressure, cancel-atomic place_order --------------------------------------------


async def test_Shop_place_order_waits_for_room_first_come_first_served() -> None:
    gate = Gate()
    got: list[trioshop.Ticket[Any]] = []
    async with trioshop.open_shop(gate, baristas=1, queue_size=1) as shop:
        await shop.place_order("made")
        await shop.place_order("queued")

        async def customer(name: str) -> None:
            got.append(await shop.place_order(name))

        async with trio.open_nursery() as nursery:
            for name in ["a", "b", "c"]:
                nursery.start_soon(customer, name)
                await trio.testing.wait_all_tasks_blocked()
            assert shop.statistics().waiting_to_order == 3
            assert shop.statistics().accepted == 2
            gate.release.set()
    assert [ticket.order for ticket in got] == ["a", "b", "c"]
    assert gate.finished == ["made", "queued", "a", "b", "c"]


async def test_Shop_place_order_cancelled_while_waiting_leaves_no_trace(
    autojump_clock: trio.testing.MockClock,
) -> None:
    gate = Gate()
    async with trioshop.open_shop(gate, baristas=1, queue_size=0) as shop:
        await shop.place_order("busy")
        with trio.move_on_after(5) as scope:
            await shop.place_order("never")
        assert scope.cancelled_caught
        stats = shop.statistics()
        assert (stats.accepted, stats.waiting_to_order, stats.queued) == (1, 0, 0)
        gate.release.set()
    assert gate.finished == ["busy"]
    assert shop.statistics().accepted == 1


async def test_Shop_place_order_already_cancelled_fails_even_with_room() -> None:
    async with trioshop.open_shop(brew, baristas=1, queue_size=10) as shop:
        with trio.CancelScope() as scope:
            scope.cancel()
            await shop.place_order(0.0)
        assert scope.cancelled_caught
        assert shop.statistics().accepted == 0


# --- 4. try_place_order ---------------------------------------------------------------------


async def test_Shop_try_place_order_raises_QueueFull_a_WouldBlock() -> None:
    gate = Gate()
    async with trioshop.open_shop(gate, baristas=1) as shop:
        await trio.testing.wait_all_tasks_blocked()
        shop.try_place_order(1)
        for _ in range(3):
            with pytest.raises(trio.WouldBlock, match="1 baristas are busy"):
                shop.try_place_order(2)
        assert shop.statistics().rejected == 3
        gate.release.set()


async def test_Shop_try_place_order_ignores_cancellation() -> None:
    async with trioshop.open_shop(brew, baristas=1, queue_size=1) as shop:
        with trio.CancelScope() as scope:  # noqa: ASYNC100 (the point: no checkpoint)
            scope.cancel()
            ticket = shop.try_place_order(0.0)
    assert await ticket.result() == 0.0


# --- 5. deadlines ---------------------------------------------------------------------------


async def test_Ticket_deadline_cancels_a_running_handler_at_the_deadline(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with trioshop.open_shop(brew, baristas=1) as shop:
        slow = await shop.place_order(10.0, deadline=trio.current_time() + 3)
        with pytest.raises(OrderCancelled, match="deadline passed"):
            await slow.result()
        assert trio.current_time() == 3.0
        # the barista is fine and serves the next order in full
        fast = await shop.place_order(1.0, deadline=trio.current_time() + 3)
        assert await fast.result() == 1.0
    assert shop.statistics().cancelled == 1


async def test_Ticket_deadline_queued_order_past_its_deadline_is_never_started(
    autojump_clock: trio.testing.MockClock,
) -> None:
    started: list[float] = []

    async def handler(order: float) -> float:
        started.append(order)
        await trio.sleep(order)
        return order

    async with trioshop.open_shop(handler, baristas=1, queue_size=5) as shop:
        first = await shop.place_order(5.0)
        late = await shop.place_order(1.0, deadline=trio.current_time() + 2)
        on_time = await shop.place_order(2.0, deadline=trio.current_time() + 100)
    assert started == [5.0, 2.0]
    assert await first.result() == 5.0
    assert await on_time.result() == 2.0
    with pytest.raises(OrderCancelled, match="deadline passed"):
        await late.result()


async def test_Ticket_result_waiter_withdraws_a_queued_order_at_its_deadline(
    autojump_clock: trio.testing.MockClock,
) -> None:
    gate = Gate()
    async with trioshop.open_shop(gate, baristas=1, queue_size=1) as shop:
        await shop.place_order("busy")
        late = await shop.place_order("late", deadline=trio.current_time() + 2)
        with pytest.raises(OrderCancelled, match="deadline passed"):
            await late.result()
        assert trio.current_time() == 2.0
        assert shop.statistics().queued == 0  # its place is free again
        shop.try_place_order("next")
        gate.release.set()
    assert gate.finished == ["busy", "next"]


async def test_Ticket_deadline_already_past_is_cancelled_without_starting() -> None:
    gate = Gate()
    async with trioshop.open_shop(gate, baristas=1) as shop:
        ticket = await shop.place_order("x", deadline=trio.current_time() - 1)
        with pytest.raises(OrderCancelled, match="deadline passed"):
            await ticket.result()
    assert gate.started == []


# --- 6. withdrawing orders ------------------------------------------------------------------


async def test_Ticket_cancel_withdraws_a_queued_order_and_frees_its_place() -> None:
    gate = Gate()
    got: list[trioshop.Ticket[Any]] = []
    async with trioshop.open_shop(gate, baristas=1, queue_size=1) as shop:
        await shop.place_order("busy")
        queued = await shop.place_order("queued")

        async def customer() -> None:
            got.append(await shop.place_order("waiting"))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(customer)
            await trio.testing.wait_all_tasks_blocked()
            queued.cancel()  # the blocked customer gets the place at once
            assert queued.done
            assert queued.cancelled
            await trio.testing.wait_all_tasks_blocked()
            assert shop.statistics().queued == 1
            assert len(got) == 1
        gate.release.set()
    assert gate.finished == ["busy", "waiting"]
    with pytest.raises(OrderCancelled, match="withdrawn"):
        await queued.result()


async def test_Ticket_cancel_cancels_a_running_handler(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with trioshop.open_shop(brew, baristas=1, queue_size=1) as shop:
        running = await shop.place_order(100.0)
        after = await shop.place_order(1.0)
        await trio.sleep(5)
        running.cancel()
        with pytest.raises(OrderCancelled, match="withdrawn"):
            await running.result()
        assert trio.current_time() == 5.0
        assert await after.result() == 1.0  # the barista goes on with a fresh scope
    stats = shop.statistics()
    assert (stats.completed, stats.cancelled) == (1, 1)


async def test_Ticket_cancel_after_hand_over_before_start() -> None:
    gate = Gate()
    async with trioshop.open_shop(gate, baristas=1) as shop:
        await trio.testing.wait_all_tasks_blocked()
        ticket = shop.try_place_order("x")  # handed to the idle barista, not yet running
        ticket.cancel()
    assert gate.started == []
    with pytest.raises(OrderCancelled, match="withdrawn"):
        await ticket.result()


async def test_Ticket_cancel_of_a_finished_order_does_nothing() -> None:
    async with trioshop.open_shop(brew, baristas=1) as shop:
        ticket = await shop.place_order(0.0)
        assert await ticket.result() == 0.0
        ticket.cancel()
    assert await ticket.result() == 0.0
    assert not ticket.cancelled
    assert shop.statistics().completed == 1


async def test_Ticket_cancel_a_handler_that_finishes_anyway_keeps_its_result() -> None:
    async def stubborn(order: str) -> str:
        with trio.CancelScope(shield=True):
            await trio.lowlevel.checkpoint()
            await trio.lowlevel.checkpoint()
        return order

    async with trioshop.open_shop(stubborn, baristas=1) as shop:
        ticket = await shop.place_order("kept")
        await trio.lowlevel.checkpoint()
        ticket.cancel()
    assert await ticket.result() == "kept"


# --- 7. handler errors ----------------------------------------------------------------------


class OutOfBeans(Exception):
    pass


async def test_Shop_handler_exception_goes_to_its_ticket_and_the_barista_goes_on() -> None:
    async def handler(order: int) -> int:
        await trio.lowlevel.checkpoint()
        if order % 2:
            raise OutOfBeans(order)
        return order

    async with trioshop.open_shop(handler, baristas=1, queue_size=10) as shop:
        tickets = [await shop.place_order(i) for i in range(6)]
    for i, ticket in enumerate(tickets):
        if i % 2:
            with pytest.raises(OutOfBeans):
                await ticket.result()
        else:
            assert await ticket.result() == i
    stats = shop.statistics()
    assert (stats.completed, stats.failed) == (3, 3)
    assert_invariant(shop, tickets)


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("fatal", [KeyboardInterrupt, SystemExit])
async def test_Shop_handler_KeyboardInterrupt_and_SystemExit_propagate(
    fatal: type[BaseException], grouped: bool
) -> None:
    async def handler(order: int) -> int:
        await trio.lowlevel.checkpoint()
        if grouped:  # as a nursery in the handler raises it
            raise BaseExceptionGroup("from a nursery", [fatal()])
        raise fatal

    tickets: list[trioshop.Ticket[int]] = []
    with pytest.raises(BaseExceptionGroup) as info:  # noqa: PT012
        async with trioshop.open_shop(handler, baristas=1, queue_size=3) as shop:
            for i in range(3):
                tickets.append(await shop.place_order(i))
            await trio.sleep_forever()
    matched, _ = info.value.split(fatal)
    assert matched is not None
    assert_invariant(shop, tickets)
    with pytest.raises(OrderCancelled, match="interrupted"):
        await tickets[0].result()


# --- 8. close and graceful shutdown ---------------------------------------------------------


async def test_Shop_close_stops_intake_and_drains_the_queue(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with trioshop.open_shop(brew, baristas=1, queue_size=5) as shop:
        tickets = [await shop.place_order(1.0) for _ in range(4)]
        shop.close()
        shop.close()  # idempotent
        assert shop.closed
        with pytest.raises(ShopClosed):
            await shop.place_order(1.0)
        with pytest.raises(ShopClosed):
            shop.try_place_order(1.0)
    assert trio.current_time() == 4.0
    assert [await ticket.result() for ticket in tickets] == [1.0] * 4
    assert_invariant(shop, tickets)


async def test_Shop_close_turns_away_customers_waiting_to_order() -> None:
    gate = Gate()
    outcomes: list[str] = []
    async with trioshop.open_shop(gate, baristas=1) as shop:
        await shop.place_order("busy")

        async def customer() -> None:
            try:
                await shop.place_order("turned away")
            except ShopClosed:
                outcomes.append("closed")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(customer)
            await trio.testing.wait_all_tasks_blocked()
            shop.close()
        gate.release.set()
    assert outcomes == ["closed"]
    assert shop.statistics().accepted == 1


async def test_Shop_ShopClosed_is_a_ClosedResourceError() -> None:
    async with trioshop.open_shop(brew, baristas=1) as shop:
        shop.close()
        with pytest.raises(trio.ClosedResourceError):
            await shop.place_order(0.0)


async def test_open_shop_leaving_the_block_waits_for_every_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with trioshop.open_shop(brew, baristas=2, queue_size=10) as shop:
        tickets = [await shop.place_order(float(i)) for i in range(1, 7)]
    assert all(ticket.done for ticket in tickets)
    assert shop.statistics().completed == 6
    assert trio.current_time() == 12.0  # 1+3+5 on one barista, 2+4+6 on the other


async def test_open_shop_grace_period_cancels_what_is_not_done(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with trioshop.open_shop(brew, baristas=1, queue_size=5, grace_period=2.5) as shop:
        tickets = [await shop.place_order(1.0) for _ in range(5)]
    assert trio.current_time() == 2.5
    assert [ticket.cancelled for ticket in tickets] == [False, False, True, True, True]
    for ticket in tickets[2:]:
        with pytest.raises(OrderCancelled, match="grace period over"):
            await ticket.result()
    assert_invariant(shop, tickets)


async def test_open_shop_grace_period_not_needed_ends_early(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with trioshop.open_shop(brew, baristas=1, grace_period=60) as shop:
        ticket = await shop.place_order(1.0)
    assert trio.current_time() == 1.0
    assert await ticket.result() == 1.0


# --- 9. stopping hard ------------------------------------------------------------------------


async def test_Shop_cancel_cancels_queued_and_running_but_not_the_body(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with trioshop.open_shop(brew, baristas=2, queue_size=5) as shop:
        tickets = [await shop.place_order(10.0) for _ in range(6)]
        await trio.sleep(1)
        shop.cancel()
        shop.cancel()  # idempotent
        for ticket in tickets:  # the body goes on and sees every outcome
            with pytest.raises(OrderCancelled, match="shop cancelled"):
                await ticket.result()
        assert trio.current_time() == 1.0
        with pytest.raises(ShopClosed):
            shop.try_place_order(1.0)
    assert_invariant(shop, tickets)
    assert shop.statistics().cancelled == 6


async def test_open_shop_body_exception_cancels_everything_and_propagates_unwrapped(
    autojump_clock: trio.testing.MockClock,
) -> None:
    tickets: list[trioshop.Ticket[float]] = []
    with pytest.raises(OutOfBeans, match=r"^body$"):  # noqa: PT012
        async with trioshop.open_shop(brew, baristas=2, queue_size=5) as shop:
            tickets.extend([await shop.place_order(10.0) for _ in range(6)])
            await trio.sleep(1)
            raise OutOfBeans("body")
    assert trio.current_time() == 1.0
    assert all(ticket.cancelled for ticket in tickets)
    assert_invariant(shop, tickets)


async def test_open_shop_outer_cancellation_cancels_everything(
    autojump_clock: trio.testing.MockClock,
) -> None:
    tickets: list[trioshop.Ticket[float]] = []
    with trio.move_on_after(1) as scope:
        async with trioshop.open_shop(brew, baristas=2, queue_size=5) as shop:
            tickets.extend([await shop.place_order(10.0) for _ in range(6)])
    assert scope.cancelled_caught
    assert trio.current_time() == 1.0
    assert all(ticket.cancelled for ticket in tickets)
    assert_invariant(shop, tickets)


async def test_open_shop_outer_cancellation_during_the_drain(
    autojump_clock: trio.testing.MockClock,
) -> None:
    tickets: list[trioshop.Ticket[float]] = []
    with trio.move_on_after(5) as scope:
        async with trioshop.open_shop(brew, baristas=1, queue_size=5) as shop:
            tickets.extend([await shop.place_order(2.0) for _ in range(5)])
    assert scope.cancelled_caught
    assert trio.current_time() == 5.0
    assert [ticket.cancelled for ticket in tickets] == [False, False, True, True, True]
    assert_invariant(shop, tickets)


async def test_Shop_after_the_block_refuses_orders() -> None:
    async with trioshop.open_shop(brew, baristas=1) as shop:
        pass
    with pytest.raises(ShopClosed):
        await shop.place_order(0.0)


# --- 11. statistics, repr, outcome ----------------------------------------------------------


async def test_Shop_statistics_and_repr_show_live_state() -> None:
    gate = Gate()
    async with trioshop.open_shop(gate, baristas=2, queue_size=3) as shop:
        await trio.testing.wait_all_tasks_blocked()
        assert repr(shop) == "<trioshop.Shop open, 0/2 baristas busy, 0/3 queued, 0 accepted>"
        for i in range(4):
            shop.try_place_order(i)
        await trio.testing.wait_all_tasks_blocked()
        stats = shop.statistics()
        assert stats == trioshop.ShopStatistics(
            baristas=2,
            queue_size=3,
            queued=2,
            in_progress=2,
            idle_baristas=0,
            waiting_to_order=0,
            accepted=4,
            completed=0,
            failed=0,
            cancelled=0,
            rejected=0,
            closed=False,
        )
        assert repr(shop) == "<trioshop.Shop open, 2/2 baristas busy, 2/3 queued, 4 accepted>"
        gate.release.set()
    assert repr(shop) == "<trioshop.Shop closed, 0/2 baristas busy, 0/3 queued, 4 accepted>"


async def test_Ticket_repr_and_outcome_follow_its_life() -> None:
    gate = Gate()
    async with trioshop.open_shop(gate, baristas=1, queue_size=2) as shop:
        running = await shop.place_order("latte")
        queued = await shop.place_order("mocha")
        failing = await shop.place_order("tea")
        await trio.testing.wait_all_tasks_blocked()
        assert repr(running) == "<trioshop.Ticket 'latte' being made>"
        assert repr(queued) == "<trioshop.Ticket 'mocha' queued>"
        with pytest.raises(RuntimeError, match="not done"):
            queued.outcome()
        queued.cancel()
        assert repr(queued) == "<trioshop.Ticket 'mocha' cancelled (withdrawn)>"
        gate.release.set()
    assert repr(running) == "<trioshop.Ticket 'latte' completed>"
    assert running.outcome().unwrap() == "latte"
    with pytest.raises(OrderCancelled):
        queued.outcome().unwrap()
    assert failing.outcome().unwrap() == "tea"


async def test_Ticket_has_no_public_constructor() -> None:
    with pytest.raises(TypeError, match="no public constructor"):
        trioshop.Ticket("order", None, None)
    with pytest.raises(TypeError, match="no public constructor"):
        trioshop.Shop(brew, 1, 0)


async def test_Ticket_many_waiters_get_the_same_result(
    autojump_clock: trio.testing.MockClock,
) -> None:
    results: list[float] = []
    async with trioshop.open_shop(brew, baristas=1) as shop:
        ticket = await shop.place_order(3.0)
        async with trio.open_nursery() as nursery:
            for _ in range(3):
                nursery.start_soon(lambda: _append(results, ticket))
    assert results == [3.0, 3.0, 3.0]


async def _append(results: list[float], ticket: trioshop.Ticket[float]) -> None:
    results.append(await ticket.result())


async def test_Ticket_cancelling_the_wait_does_not_cancel_the_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with trioshop.open_shop(brew, baristas=1) as shop:
        ticket = await shop.place_order(3.0)
        with trio.move_on_after(1):
            await ticket.result()
        assert not ticket.done
        assert await ticket.result() == 3.0


# --- 12. bad input ----------------------------------------------------------------------------


def sync_handler(order: object) -> object:
    return order


async def agen_handler(order: object) -> Any:
    yield order


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"baristas": 0}, ValueError, "baristas must be >= 1, got 0"),
        ({"baristas": -3}, ValueError, "baristas must be >= 1, got -3"),
        ({"baristas": 1.5}, TypeError, "baristas must be an int, got 1.5"),
        ({"baristas": True}, TypeError, "baristas must be an int, got True"),
        ({"baristas": 1, "queue_size": -1}, ValueError, "queue_size must be >= 0, got -1"),
        ({"baristas": 1, "queue_size": None}, TypeError, "queue_size must be an int"),
        ({"baristas": 1, "grace_period": -0.5}, ValueError, "grace_period must be >= 0"),
        ({"baristas": 1, "grace_period": math.nan}, ValueError, "grace_period must not be NaN"),
        ({"baristas": 1, "grace_period": "5"}, TypeError, "grace_period must be a number"),
        ({"baristas": 1, "handler": sync_handler}, TypeError, "handler must be an async"),
        ({"baristas": 1, "handler": agen_handler}, TypeError, "async generator function"),
        ({"baristas": 1, "handler": "brew"}, TypeError, "handler must be an async callable"),
        ({"baristas": 1, "handler": lambda o: brew(o)}, TypeError, "wrap a sync function"),
    ],
)
def test_open_shop_rejects_bad_arguments_at_once(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    handler = kwargs.pop("handler", brew)
    with pytest.raises(error, match=re.escape(message)):
        trioshop.open_shop(handler, **kwargs)


async def test_open_shop_accepts_async_callables() -> None:
    import functools

    class Barista:
        async def __call__(self, order: int) -> int:
            return order + 1

        async def make(self, order: int) -> int:
            return order + 2

    async def add(n: int, order: int) -> int:
        return order + n

    for handler in [Barista(), Barista().make, functools.partial(add, 3)]:
        async with trioshop.open_shop(handler, baristas=1) as shop:
            ticket = await shop.place_order(0)
        assert await ticket.result() in {1, 2, 3}


async def test_Shop_place_order_rejects_a_NaN_deadline() -> None:
    async with trioshop.open_shop(brew, baristas=1) as shop:
        with pytest.raises(ValueError, match="deadline must not be NaN"):
            await shop.place_order(0.0, deadline=math.nan)
        with pytest.raises(ValueError, match="deadline must not be NaN"):
            shop.try_place_order(0.0, deadline=math.nan)
        with pytest.raises(TypeError, match="deadline must be a number"):
            shop.try_place_order(0.0, deadline="soon")  # type: ignore[arg-type]
        assert shop.statistics().accepted == 0


# --- checkpoints -----------------------------------------------------------------------------


async def test_Shop_checkpoint_contract() -> None:
    gate = Gate()
    async with trioshop.open_shop(gate, baristas=1, queue_size=5) as shop:
        with trio.testing.assert_checkpoints():
            ticket = await shop.place_order("fast path")
        with trio.testing.assert_no_checkpoints():
            shop.try_place_order("sync")
            shop.statistics()
            repr(shop)
            ticket.done  # noqa: B018
        gate.release.set()
        with trio.testing.assert_checkpoints():
            await ticket.result()
        with trio.testing.assert_checkpoints():
            await ticket.result()  # done: still a checkpoint
        with trio.testing.assert_no_checkpoints():
            ticket.cancel()
            shop.close()
            shop.cancel()


async def test_Shop_statistics_count_a_handed_over_order_as_in_progress() -> None:
    gate = Gate()
    async with trioshop.open_shop(gate, baristas=1) as shop:
        await trio.testing.wait_all_tasks_blocked()
        ticket = shop.try_place_order("latte")  # the idle barista has not run yet
        stats = shop.statistics()
        assert (stats.accepted, stats.queued, stats.in_progress, stats.idle_baristas) == (
            1,
            0,
            1,
            0,
        )
        assert repr(ticket) == "<trioshop.Ticket 'latte' being made>"
        ticket.cancel()  # withdrawn before it started: no longer in progress
        await trio.testing.wait_all_tasks_blocked()
        assert shop.statistics().in_progress == 0


# --- review: handlers that fail while they are being cancelled -----------------------------


class CleanupFails(Exception):
    """A handler's cleanup failed while the handler was being cancelled."""


async def fails_on_cancel(order: float) -> float:
    """A handler whose helper task fails on its way out when the handler is cancelled.

    Cancelling it makes its nursery raise a group of the ``Cancelled`` and the failure.
    """
    if order == 0:
        return order

    async def helper() -> None:
        try:
            await trio.sleep_forever()
        finally:
            raise CleanupFails("the milk jug fell")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(helper)
        await trio.sleep(order)
    return order


@pytest.mark.parametrize("how", ["withdrawn", "deadline", "shop cancelled"])
async def test_Shop_handler_failing_while_cancelled_fails_its_ticket_only(
    autojump_clock: trio.testing.MockClock, how: str
) -> None:
    # The failure belongs to the order: it must not escape the barista and bring the
    # whole shop down (cancelling the other orders and raising out of the block).
    deadline = 1.0 if how == "deadline" else None
    async with trioshop.open_shop(fails_on_cancel, baristas=1, queue_size=2) as shop:
        first = await shop.place_order(10.0, deadline=deadline)
        second = await shop.place_order(0.0)
        await trio.sleep(0.5)
        if how == "withdrawn":
            first.cancel()
        elif how == "shop cancelled":
            shop.cancel()
        with pytest.RaisesGroup(CleanupFails):
            await first.result()
    assert first.done
    assert not first.cancelled
    if how == "shop cancelled":
        assert second.cancelled
    else:
        assert await second.result() == 0
    assert shop.statistics().failed == 1
    assert_invariant(shop, [first, second])


# --- review: how a cancellation from outside leaves the block -------------------------------


@pytest.mark.parametrize("when", ["body running", "draining"])
async def test_open_shop_outer_cancellation_leaves_unwrapped(
    autojump_clock: trio.testing.MockClock, when: str
) -> None:
    # Documented: a cancellation from outside propagates unchanged, not in an
    # ExceptionGroup, so `except trio.Cancelled:` around the block sees it.
    seen: list[BaseException] = []
    with trio.CancelScope() as scope:
        try:
            async with trioshop.open_shop(brew, baristas=2, queue_size=2) as shop:
                tickets = [await shop.place_order(10.0) for _ in range(3)]
                if when == "body running":
                    scope.cancel()
                    await trio.sleep(5)
                else:
                    scope.deadline = trio.current_time() + 1
        except BaseException as exc:
            seen.append(exc)
            raise
    assert scope.cancelled_caught
    assert len(seen) == 1
    assert type(seen[0]) is trio.Cancelled
    assert all(ticket.cancelled for ticket in tickets)
    assert_invariant(shop, tickets)


async def test_open_shop_body_exception_is_not_lost_when_the_crew_fails_too() -> None:
    # The body fails, the shop is cancelled, and a handler dies of a KeyboardInterrupt
    # on its way out: both must come out, nothing is lost.
    class BodyFailed(Exception):
        pass

    started = trio.Event()

    async def handler(order: int) -> int:
        started.set()
        try:
            await trio.sleep_forever()
        finally:
            raise KeyboardInterrupt

    with pytest.raises(BaseExceptionGroup) as info:  # noqa: PT012
        async with trioshop.open_shop(handler, baristas=1) as shop:
            ticket = await shop.place_order(1)
            await started.wait()
            raise BodyFailed
    assert info.value.subgroup(BodyFailed) is not None
    assert info.value.subgroup(KeyboardInterrupt) is not None
    assert_invariant(shop, [ticket])


# --- review: re-entrant use ------------------------------------------------------------------


async def test_Ticket_result_awaited_by_its_own_handler_raises_instead_of_hanging(
    autojump_clock: trio.testing.MockClock,
) -> None:
    tickets: dict[int, trioshop.Ticket[Any]] = {}

    async def handler(order: int) -> Any:
        if order == 0:
            await trio.sleep(1)
            return 0
        with trio.testing.assert_checkpoints(), pytest.raises(RuntimeError, match="its own order"):
            await tickets[order].result()
        return await tickets[0].result()  # another order's ticket is fine

    with trio.fail_after(10):
        async with trioshop.open_shop(handler, baristas=1, queue_size=1) as shop:
            tickets[0] = await shop.place_order(0)
            tickets[1] = await shop.place_order(1)
    assert await tickets[1].result() == 0
    assert_invariant(shop, list(tickets.values()))


# --- review: handlers that never checkpoint --------------------------------------------------


@pytest.mark.parametrize(
    ("stop", "reason"),
    [("grace period", "grace period over"), ("outer deadline", "shop cancelled")],
)
async def test_open_shop_stops_handlers_that_never_checkpoint_between_orders(
    autojump_clock: trio.testing.MockClock, stop: str, reason: str
) -> None:
    # A handler that works for a second without a checkpoint (CPU-bound work, simulated
    # by moving the clock). Nothing can interrupt it, but once the grace period is over,
    # or an enclosing scope's deadline has passed, no further order may be *started*.
    async def crunch(order: int) -> int:
        autojump_clock.jump(1)
        return order

    grace = 2.5 if stop == "grace period" else None
    with trio.move_on_after(math.inf if grace else 2.5):
        async with trioshop.open_shop(
            crunch, baristas=1, queue_size=5, grace_period=grace
        ) as shop:
            tickets = [shop.try_place_order(i) for i in range(5)]
    assert trio.current_time() == 3.0
    assert [ticket.cancelled for ticket in tickets] == [False, False, False, True, True]
    with pytest.raises(OrderCancelled, match=reason):
        await tickets[3].result()
    assert_invariant(shop, tickets)


# --- review: the crew is ready when the block starts ----------------------------------------


@pytest.mark.parametrize("baristas", [1, 3])
async def test_Shop_try_place_order_at_once_finds_every_barista_free(baristas: int) -> None:
    # No checkpoint between opening the shop and the first orders: the baristas are
    # free, so a rendezvous shop must take one order per barista, not refuse them all.
    async with trioshop.open_shop(brew, baristas=baristas) as shop:
        assert shop.statistics().idle_baristas == baristas
        tickets = [shop.try_place_order(0.0) for _ in range(baristas)]
        with pytest.raises(QueueFull):
            shop.try_place_order(0.0)
    assert [await ticket.result() for ticket in tickets] == [0.0] * baristas
    assert shop.statistics().rejected == 1
    assert_invariant(shop, tickets)


# --- review: one exception, many waiters ----------------------------------------------------


def traceback_length(exc: BaseException) -> int:
    length, tb = 0, exc.__traceback__
    while tb is not None:
        length, tb = length + 1, tb.tb_next
    return length


async def test_Ticket_result_raising_again_does_not_grow_the_traceback() -> None:
    # Every waiter gets the handler's exception object itself; raising it again must not
    # pile the frames of every earlier raise onto its traceback (memory, unreadable logs).
    async def handler(order: int) -> int:
        raise ValueError(order)

    async with trioshop.open_shop(handler, baristas=1) as shop:
        ticket = await shop.place_order(1)
    lengths = []
    for _ in range(10):
        with pytest.raises(ValueError, match="1") as info:
            await ticket.result()
        lengths.append(traceback_length(info.value))
    for _ in range(10):
        with pytest.raises(ValueError, match="1") as info:
            ticket.outcome().unwrap()
        lengths.append(traceback_length(info.value))
    assert lengths[:10] == [lengths[0]] * 10
    assert lengths[10:] == [lengths[10]] * 10
