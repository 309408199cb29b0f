"""Tests for `trioshop.WeightedSemaphore`.

Property tests run each example on Trio's virtual clock with ``trio.run(...,
clock=MockClock(autojump_threshold=0))``. Importing Hypothesis makes Trio's scheduler
draw its batch order from a Hypothesis-controlled random source, so each example also
explores (and can shrink) a different interleaving of the tasks.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from trioshop import WeightedSemaphore, WeightedSemaphoreStatistics

wait_all_tasks_blocked = trio.testing.wait_all_tasks_blocked


async def _acquire_into(sem: WeightedSemaphore, n: int, log: list[Any], name: object) -> None:
    await sem.acquire(n)
    log.append(name)


# -- arguments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("capacity", "error", "match"),
    [
        (0, ValueError, "capacity must be >= 1, got 0"),
        (-3, ValueError, "capacity must be >= 1, got -3"),
        (1.5, TypeError, "capacity must be an int, got 1.5"),
        (True, TypeError, "capacity must be an int, got True"),
        (None, TypeError, "capacity must be an int, got None"),
        ("4", TypeError, "capacity must be an int, got '4'"),
    ],
)
def test_WeightedSemaphore_rejects_bad_capacity(
    capacity: object, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=re.escape(match)):
        WeightedSemaphore(capacity)  # type: ignore[arg-type]


_BAD_N = [
    (0, ValueError, "n must be >= 1, got 0"),
    (-1, ValueError, "n must be >= 1, got -1"),
    (6, ValueError, "n must be <= capacity (5), got 6"),
    (1.0, TypeError, "n must be an int, got 1.0"),
    (True, TypeError, "n must be an int, got True"),
    (float("nan"), TypeError, "n must be an int, got nan"),
]


@pytest.mark.parametrize(("n", "error", "match"), _BAD_N)
@pytest.mark.parametrize("call", ["acquire", "acquire_nowait", "hold", "release"])
async def test_WeightedSemaphore_rejects_bad_n(
    call: str, n: object, error: type[Exception], match: str
) -> None:
    sem = WeightedSemaphore(5)
    if call == "release":
        sem.acquire_nowait(5)
        if n == 6:  # more than is in use: misuse, not a bad argument
            error, match = RuntimeError, "cannot release 6 unit(s): only 5 in use"

    async def attempt() -> None:
        if call == "acquire":
            # fails at once, before the checkpoint: Go would block forever on n > capacity
            with trio.testing.assert_no_checkpoints():
                await sem.acquire(n)  # type: ignore[arg-type]
        else:
            getattr(sem, call)(n)

    with pytest.raises(error, match=re.escape(match)):
        await attempt()
    expected_in_use = 5 if call == "release" else 0
    assert sem.statistics() == WeightedSemaphoreStatistics(
        capacity=5, in_use=expected_in_use, waiting=0, units_waiting=0
    )


# -- basics ------------------------------------------------------------------------------


async def test_WeightedSemaphore_acquire_release_statistics_repr() -> None:
    sem = WeightedSemaphore(5)
    assert sem.capacity == 5
    assert repr(sem) == "<trioshop.WeightedSemaphore 0/5 in use, 0 waiting>"
    await sem.acquire(3)
    sem.acquire_nowait(2)
    assert sem.in_use == 5
    with pytest.raises(trio.WouldBlock):
        sem.acquire_nowait()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(sem.acquire, 4)
        await wait_all_tasks_blocked()
        assert sem.statistics() == WeightedSemaphoreStatistics(
            capacity=5, in_use=5, waiting=1, units_waiting=4
        )
        assert repr(sem) == "<trioshop.WeightedSemaphore 5/5 in use, 1 waiting>"
        sem.release(5)
    assert sem.in_use == 4
    sem.release(4)
    assert sem.statistics() == WeightedSemaphoreStatistics(5, 0, 0, 0)


async def test_WeightedSemaphore_hold_releases_on_error() -> None:
    sem = WeightedSemaphore(3)

    async def spill() -> None:
        async with sem.hold(2):
            assert sem.in_use == 2
            raise KeyError("spilled")

    with pytest.raises(KeyError):
        await spill()
    assert sem.in_use == 0
    async with sem.hold():
        assert sem.in_use == 1
    assert sem.in_use == 0
    assert "hold(2)" in repr(sem.hold(2))


async def test_WeightedSemaphore_checkpoints() -> None:
    sem = WeightedSemaphore(2)
    with trio.testing.assert_checkpoints():
        await sem.acquire()
    with trio.testing.assert_no_checkpoints():
        sem.acquire_nowait()
        sem.release(2)
        sem.statistics()
    with trio.testing.assert_checkpoints():
        async with sem.hold(2):
            pass
    async with sem.hold(2):
        with trio.testing.assert_no_checkpoints():
            # leaving the block releases without a checkpoint
            await sem.hold(2).__aexit__(None, None, None)
        await sem.acquire(2)


async def test_WeightedSemaphore_already_cancelled_caller_fails_even_with_room() -> None:
    sem = WeightedSemaphore(3)
    with trio.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(trio.Cancelled):
            await sem.acquire(1)
    assert scope.cancelled_caught is False
    assert sem.in_use == 0
    # ... while the _nowait form ignores cancellation
    with trio.CancelScope() as scope:  # noqa: ASYNC100 (the point: no checkpoint inside)
        scope.cancel()
        sem.acquire_nowait(1)
    assert sem.in_use == 1


# -- FIFO ----------------------------------------------------------------------------------


async def test_WeightedSemaphore_waiter_that_does_not_fit_blocks_those_behind() -> None:
    sem = WeightedSemaphore(5)
    sem.acquire_nowait(3)
    log: list[str] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_acquire_into, sem, 4, log, "large")
        await wait_all_tasks_blocked()
        nursery.start_soon(_acquire_into, sem, 1, log, "small")
        await wait_all_tasks_blocked()
        # 2 units are free and "small" needs 1, but "large" is ahead of it
        assert log == []
        assert sem.statistics().waiting == 2
        with pytest.raises(trio.WouldBlock):
            sem.acquire_nowait(1)
        sem.release(2)
        await wait_all_tasks_blocked()
        assert log == ["large"]
        sem.release(1)
    assert log == ["large", "small"]
    assert sem.in_use == 5


async def test_WeightedSemaphore_acquire_nowait_fails_whenever_anyone_is_queued() -> None:
    sem = WeightedSemaphore(10)
    sem.acquire_nowait(6)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(sem.acquire, 5)
        await wait_all_tasks_blocked()
        for n in (1, 2, 4):  # 4 units are free: every one of these would fit
            with pytest.raises(trio.WouldBlock):
                sem.acquire_nowait(n)
        sem.release(1)
    assert sem.in_use == 10


async def test_WeightedSemaphore_one_release_wakes_several_in_order() -> None:
    sem = WeightedSemaphore(5)
    sem.acquire_nowait(5)
    log: list[int] = []
    async with trio.open_nursery() as nursery:
        for i, n in enumerate([2, 2, 1, 3, 1]):
            nursery.start_soon(_acquire_into, sem, n, log, i)
            await wait_all_tasks_blocked()
        sem.release(5)
        await wait_all_tasks_blocked()
        # 2 + 2 + 1 fit; the 3 does not, and the 1 behind it waits its turn
        assert sorted(log) == [0, 1, 2]
        assert sem.statistics() == WeightedSemaphoreStatistics(5, 5, 2, 4)
        sem.release(2)
        await wait_all_tasks_blocked()
        assert sorted(log) == [0, 1, 2]  # 3 units needed, 2 free
        sem.release(1)
        await wait_all_tasks_blocked()
        assert sorted(log) == [0, 1, 2, 3]
        sem.release(1)
    assert sorted(log) == [0, 1, 2, 3, 4]
    assert sem.in_use == 5


async def test_WeightedSemaphore_large_order_is_not_starved(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sem = WeightedSemaphore(4)
    large_served_at: list[float] = []

    async def small_orders_forever() -> None:
        while True:
            async with sem.hold(1):
                await trio.sleep(1)

    async def large_order() -> None:
        async with sem.hold(4):
            large_served_at.append(trio.current_time())

    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        for i in range(6):
            nursery.start_soon(small_orders_forever)
            await trio.sleep(0.1 * i)
        nursery.start_soon(large_order)
        await trio.sleep(10)
        nursery.cancel_scope.cancel()
    # It arrives at 1.5s; those holding or already queued ahead of it finish at most one
    # round each (at most two rounds of 1s), then it goes, whatever the small ones do.
    assert len(large_served_at) == 1
    assert large_served_at[0] - start <= 3.5


async def test_WeightedSemaphore_two_large_orders_cannot_deadlock(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # A semaphore taking permits one at a time lets A and B each take 2 of 4 and then
    # wait forever for the rest. Here a request takes all its units at once.
    sem = WeightedSemaphore(4)
    done: list[str] = []

    async def order(name: str) -> None:
        async with sem.hold(3):
            await trio.sleep(1)
        done.append(name)

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(order, "A")
            nursery.start_soon(order, "B")
    assert sorted(done) == ["A", "B"]
    assert trio.current_time() == pytest.approx(2)


# -- cancellation ------------------------------------------------------------------------


async def test_WeightedSemaphore_cancelled_head_lets_in_those_behind_that_fit() -> None:
    sem = WeightedSemaphore(5)
    sem.acquire_nowait(3)
    log: list[str] = []
    async with trio.open_nursery() as nursery:
        head_scope = trio.CancelScope()

        async def head() -> None:
            with head_scope:
                await sem.acquire(4)
            log.append("head gave up")

        nursery.start_soon(head)
        await wait_all_tasks_blocked()
        for name in ("one", "two", "three"):
            nursery.start_soon(_acquire_into, sem, 1, log, name)
            await wait_all_tasks_blocked()
        assert log == []
        # No release happens: cancelling the head alone must let the two that fit in.
        head_scope.cancel()
        await wait_all_tasks_blocked()
        assert sorted(log) == ["head gave up", "one", "two"]
        assert sem.statistics() == WeightedSemaphoreStatistics(5, 5, 1, 1)
        sem.release(1)
    assert "three" in log
    assert sem.in_use == 5


async def test_WeightedSemaphore_cancelled_waiter_leaves_the_count_as_it_was() -> None:
    sem = WeightedSemaphore(3)
    sem.acquire_nowait(2)
    with trio.move_on_after(0) as scope:
        await sem.acquire(3)
    assert scope.cancelled_caught
    assert sem.statistics() == WeightedSemaphoreStatistics(3, 2, 0, 0)
    sem.release(2)
    sem.acquire_nowait(3)


async def test_WeightedSemaphore_woken_then_cancelled_still_owns_its_units() -> None:
    # The units are handed over at wake-up: a task cancelled after that but before it runs
    # keeps them until its `async with` releases them. Nothing is lost or leaked.
    sem = WeightedSemaphore(2)
    sem.acquire_nowait(2)
    entered: list[int] = []
    async with trio.open_nursery() as nursery:
        scope = trio.CancelScope()

        async def waiter() -> None:
            with scope:
                async with sem.hold(2):
                    entered.append(sem.in_use)
                    await trio.sleep_forever()

        nursery.start_soon(waiter)
        await wait_all_tasks_blocked()
        sem.release(2)
        scope.cancel()  # before the woken waiter has run
    assert entered == [2]
    assert sem.statistics() == WeightedSemaphoreStatistics(2, 0, 0, 0)


async def test_WeightedSemaphore_release_more_than_in_use_raises_and_stays_usable() -> None:
    sem = WeightedSemaphore(4)
    with pytest.raises(RuntimeError, match=re.escape("cannot release 1 unit(s): only 0 in use")):
        sem.release()
    sem.acquire_nowait(2)
    with pytest.raises(RuntimeError, match=re.escape("cannot release 3 unit(s): only 2 in use")):
        sem.release(3)
    assert sem.in_use == 2
    sem.release(2)
    await sem.acquire(4)
    assert sem.in_use == 4


# -- properties ----------------------------------------------------------------------------

_orders = st.lists(
    st.tuples(
        st.integers(0, 3),  # arrival, in tenths of a second
        st.integers(1, 6),  # units wanted (clipped to capacity)
        st.integers(0, 5),  # hold time, tenths
        st.none() | st.integers(0, 3),  # patience, tenths (None: waits forever)
        st.booleans(),  # try acquire_nowait first
    ),
    max_size=12,
)


@given(capacity=st.integers(1, 6), orders=_orders)
def test_WeightedSemaphore_property_never_over_capacity_nothing_lost(
    capacity: int, orders: list[tuple[int, int, int, int | None, bool]]
) -> None:
    async def main() -> None:
        sem = WeightedSemaphore(capacity)
        held = 0
        outcomes: dict[int, str] = {}

        def check_head() -> None:
            # After a release or a cancellation, no waiter that fits is left at the head.
            waiters = list(sem._waiters.values())
            assert not waiters or sem.in_use + waiters[0] > capacity

        async def customer(i: int, arrival: int, n: int, hold: int, patience: int | None,
                           try_first: bool) -> None:  # fmt: skip
            nonlocal held
            await trio.sleep(arrival / 10)
            n = min(n, capacity)
            got = False
            if try_first:
                try:
                    sem.acquire_nowait(n)
                    got = True
                except trio.WouldBlock:
                    pass
            if not got:
                with trio.move_on_after(patience / 10 if patience is not None else float("inf")):
                    await sem.acquire(n)
                    got = True
            if not got:
                assert patience is not None
                outcomes[i] = "cancelled"
                check_head()
                return
            held += n
            assert held <= sem.in_use <= capacity
            await trio.sleep(hold / 10)
            held -= n
            sem.release(n)
            outcomes[i] = "served"
            check_head()

        with trio.fail_after(1000):  # a lost wake-up shows as a timeout, not a hang
            async with trio.open_nursery() as nursery:
                for i, order in enumerate(orders):
                    nursery.start_soon(customer, i, *order)
        assert sorted(outcomes) == list(range(len(orders)))
        for i, (_, _, _, patience, _) in enumerate(orders):
            if patience is None:
                assert outcomes[i] == "served"
        assert sem.statistics() == WeightedSemaphoreStatistics(capacity, 0, 0, 0)

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


@given(
    capacity=st.integers(1, 6),
    held=st.integers(0, 6),
    sizes=st.lists(st.integers(1, 6), min_size=1, max_size=8),
    data=st.data(),
)
def test_WeightedSemaphore_property_cancelling_waiters_loses_no_wakeup(
    capacity: int, held: int, sizes: list[int], data: st.DataObject
) -> None:
    held = min(held, capacity)
    sizes = [min(n, capacity) for n in sizes]
    to_cancel = data.draw(st.lists(st.sampled_from(range(len(sizes))), unique=True))

    async def main() -> None:
        sem = WeightedSemaphore(capacity)
        base = held  # units held outside the customers
        if base:
            sem.acquire_nowait(base)
        scopes = [trio.CancelScope() for _ in sizes]
        inside: set[int] = set()

        async def customer(i: int) -> None:
            with scopes[i]:
                async with sem.hold(sizes[i]):
                    inside.add(i)
                    await trio.sleep_forever()

        def check() -> None:
            waiters = list(sem._waiters.values())
            assert not waiters or sem.in_use + waiters[0] > capacity
            assert sem.in_use == base + sum(sizes[i] for i in inside) <= capacity

        async with trio.open_nursery() as nursery:
            for i in range(len(sizes)):
                nursery.start_soon(customer, i)
                await wait_all_tasks_blocked()
                check()
            for i in to_cancel:
                scopes[i].cancel()
                await wait_all_tasks_blocked()
                inside.discard(i)
                check()
            if base:
                sem.release(base)
                base = 0
                await wait_all_tasks_blocked()
                check()
            nursery.cancel_scope.cancel()
        assert sem.statistics() == WeightedSemaphoreStatistics(capacity, 0, 0, 0)

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
