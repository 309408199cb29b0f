"""Tests for `trioshop.Once`.

Property tests run each example on Trio's virtual clock with ``trio.run(...,
clock=MockClock(autojump_threshold=0))``. Importing Hypothesis makes Trio's scheduler
draw its batch order from a Hypothesis-controlled random source, so each example also
explores (and can shrink) a different interleaving of the tasks.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from trioshop import Once, OnceStatistics

wait_all_tasks_blocked = trio.testing.wait_all_tasks_blocked


class Book:
    """A fresh object per run, so identity shows which run a caller got."""

    def __init__(self, edition: int) -> None:
        self.edition = edition


def _sync_fn() -> int:
    return 1


async def _agen() -> Any:
    yield 1


async def _async_fn(x: int) -> int:
    return x


@pytest.mark.parametrize(
    ("fn", "match"),
    [
        (None, "fn must be an async callable, got None"),
        (3, "fn must be an async callable, got 3"),
        (_sync_fn, r"fn must be an async function \(async def\), got <function _sync_fn"),
        (lambda: 1, r"fn must be an async function \(async def\), got <function <lambda>"),
        (_agen, "fn must be an async function, got the async generator function"),
    ],
)
def test_Once_rejects_bad_fn(fn: object, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        Once(fn)  # type: ignore[arg-type]


async def test_Once_accepts_partial_and_passes_args() -> None:
    once = Once(functools.partial(_async_fn, 7))
    assert await once() == 7
    once2 = Once(_async_fn, 9)
    assert await once2() == 9


async def test_Once_concurrent_callers_share_one_run(
    autojump_clock: trio.testing.MockClock,
) -> None:
    editions = 0

    async def fetch() -> Book:
        nonlocal editions
        editions += 1
        await trio.sleep(1)
        return Book(editions)

    once = Once(fetch)
    assert (
        repr(once)
        == "<trioshop.Once test_Once_concurrent_callers_share_one_run.<locals>.fetch not done>"
    )
    got: list[Book] = []

    async def caller() -> None:
        got.append(await once())

    async with trio.open_nursery() as nursery:
        for _ in range(5):
            nursery.start_soon(caller)
        await wait_all_tasks_blocked()
        assert once.statistics() == OnceStatistics(
            done=False, running=True, waiting=4, runs=1, failures=0
        )
        assert repr(once).endswith("fetch running, 4 waiting>")
    assert editions == 1
    assert len(got) == 5
    assert all(book is got[0] for book in got)
    assert once.done
    assert repr(once).endswith("fetch done>")
    # later callers get the same object, without running fn
    assert await once() is got[0]
    assert once.statistics() == OnceStatistics(True, False, 0, 1, 0)


async def test_Once_failed_run_reaches_everyone_waiting_and_is_retried(
    autojump_clock: trio.testing.MockClock,
) -> None:
    attempts = 0

    async def fetch() -> Book:
        nonlocal attempts
        attempts += 1
        await trio.sleep(1)
        if attempts == 1:
            raise ConnectionError("head office is down")
        return Book(attempts)

    once = Once(fetch)
    errors: list[BaseException] = []

    async def caller() -> None:
        try:
            await once()
        except ConnectionError as exc:
            errors.append(exc)

    async with trio.open_nursery() as nursery:
        for _ in range(3):
            nursery.start_soon(caller)
    assert len(errors) == 3
    assert all(exc is errors[0] for exc in errors)  # the same exception, for every caller
    assert not once.done
    assert once.statistics() == OnceStatistics(False, False, 0, 1, 1)
    # a transient failure does not poison it: the next call runs fn again
    book = await once()
    assert book.edition == 2
    assert once.done
    assert once.statistics() == OnceStatistics(True, False, 0, 2, 1)


async def test_Once_cancelled_runner_hands_the_run_to_a_waiter(
    autojump_clock: trio.testing.MockClock,
) -> None:
    started: list[trio.lowlevel.Task] = []

    async def fetch() -> Book:
        started.append(trio.lowlevel.current_task())
        await trio.sleep(1)
        return Book(len(started))

    once = Once(fetch)
    got: list[Book] = []
    runner_scope = trio.CancelScope()

    async def runner() -> None:
        with runner_scope:
            await once()

    async def waiter() -> None:
        got.append(await once())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner)
        await wait_all_tasks_blocked()
        for _ in range(3):
            nursery.start_soon(waiter)
        await wait_all_tasks_blocked()
        assert once.statistics().waiting == 3
        await trio.sleep(0.5)
        runner_scope.cancel()
    assert runner_scope.cancelled_caught
    assert len(started) == 2  # the cancelled run and one rerun by a waiter
    assert started[1] is not started[0]
    assert len(got) == 3
    assert all(book is got[0] for book in got)
    assert got[0].edition == 2
    assert trio.current_time() == pytest.approx(1.5)
    assert once.statistics() == OnceStatistics(True, False, 0, 2, 0)


async def test_Once_cancelled_waiter_does_not_disturb_the_run(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def fetch() -> Book:
        await trio.sleep(1)
        return Book(1)

    once = Once(fetch)
    got: list[Book] = []

    async def caller() -> None:
        got.append(await once())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(caller)
        await wait_all_tasks_blocked()
        with trio.move_on_after(0.5) as scope:
            await once()
        assert scope.cancelled_caught
        assert once.statistics() == OnceStatistics(False, True, 0, 1, 0)
    assert once.done
    assert len(got) == 1
    assert trio.current_time() == pytest.approx(1)


async def test_Once_checkpoints_and_already_cancelled_caller() -> None:
    async def no_checkpoint() -> str:
        return "value"

    once = Once(no_checkpoint)
    with trio.testing.assert_checkpoints():
        assert await once() == "value"
    with trio.testing.assert_checkpoints():
        assert await once() == "value"
    with trio.testing.assert_no_checkpoints():
        once.statistics()
        assert once.done
    with trio.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(trio.Cancelled):
            await once()

    async def boom() -> None:
        raise ValueError("no")

    failing = Once(boom)
    with trio.testing.assert_checkpoints(), pytest.raises(ValueError, match="no"):
        await failing()


async def test_Once_fn_awaiting_its_own_once_raises() -> None:
    once: Once[int]

    async def recursive() -> int:
        return await once()

    once = Once(recursive)
    with pytest.raises(RuntimeError, match="fn awaited its own Once and would wait forever"):
        await once()
    assert once.statistics() == OnceStatistics(False, False, 0, 1, 1)


async def test_Once_fn_awaiting_its_own_once_from_a_nested_task_raises() -> None:
    once: Once[int]

    async def grandchild() -> None:
        await once()

    async def child() -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(grandchild)

    async def fetch() -> int:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(child)
        return 1

    once = Once(fetch)
    with (
        trio.fail_after(1),
        pytest.RaisesGroup(
            pytest.RaisesGroup(
                pytest.RaisesExc(
                    RuntimeError, match="fn awaited its own Once and would wait forever"
                )
            )
        ),
    ):
        await once()
    assert once.statistics() == OnceStatistics(False, False, 0, 1, 1)


async def test_Once_fn_starting_a_task_that_awaits_the_once_raises() -> None:
    once: Once[int]

    async def starter(outer: trio.Nursery) -> int:
        # Until it calls started(), the new task lives in a nursery opened by fn's task.
        async def task(*, task_status: trio.TaskStatus[None]) -> None:
            await once()
            task_status.started()

        await outer.start(task)
        return 1

    async with trio.open_nursery() as outer:
        once = Once(starter, outer)
        with trio.fail_after(1), pytest.raises(RuntimeError, match="awaited its own Once"):
            await once()


async def test_Once_child_of_the_runner_from_before_the_run_just_waits(
    autojump_clock: trio.testing.MockClock,
) -> None:
    release = trio.Event()
    got: list[object] = []

    async def fetch() -> Book:
        await release.wait()
        return Book(1)

    once = Once(fetch)

    async def child() -> None:
        await trio.sleep(0.5)  # the parent's run is in progress by now
        assert once.statistics().running
        got.append(await once())  # waits for that run: no deadlock, no error

    async with trio.open_nursery() as nursery:
        nursery.start_soon(child)
        nursery.start_soon(_set_later, release)
        value = await once()
    assert got == [value]
    assert once.statistics().runs == 1


async def _set_later(event: trio.Event) -> None:
    await trio.sleep(1)
    event.set()


# -- property ------------------------------------------------------------------------------

_callers = st.lists(
    st.tuples(st.integers(0, 6), st.none() | st.integers(0, 4)),  # arrival, patience
    min_size=1,
    max_size=10,
)
_runs = st.lists(st.tuples(st.integers(0, 4), st.booleans()), max_size=8)  # duration, fails


@given(callers=_callers, runs=_runs)
def test_Once_property_one_run_at_a_time_one_value(
    callers: list[tuple[int, int | None]], runs: list[tuple[int, bool]]
) -> None:
    async def main() -> None:
        running = 0
        started = 0
        raised: list[Exception] = []
        values: list[Book] = []

        async def fetch() -> Book:
            nonlocal running, started
            assert running == 0
            running += 1
            try:
                duration, fails = runs[started] if started < len(runs) else (1, False)
                started += 1
                await trio.sleep(duration / 10)
                if fails:
                    raised.append(OSError(f"run {started} failed"))
                    raise raised[-1]
                values.append(Book(started))
                return values[-1]
            finally:
                running -= 1

        once = Once(fetch)
        outcomes: list[object] = [None] * len(callers)

        async def caller(i: int, arrival: int, patience: int | None) -> None:
            await trio.sleep(arrival / 10)
            with trio.move_on_after(float("inf") if patience is None else patience / 10):
                try:
                    outcomes[i] = await once()
                except OSError as exc:
                    outcomes[i] = exc
                return
            outcomes[i] = "cancelled"

        with trio.fail_after(1000):  # a lost hand-over shows as a timeout, not a hang
            async with trio.open_nursery() as nursery:
                for i, (arrival, patience) in enumerate(callers):
                    nursery.start_soon(caller, i, arrival, patience)
        assert len(values) <= 1  # at most one successful run, ever
        stats = once.statistics()
        assert stats.done == bool(values)
        assert stats.runs == started
        assert stats.failures == len(raised)
        assert not stats.running
        assert stats.waiting == 0
        for (_, patience), outcome in zip(callers, outcomes, strict=True):
            assert outcome is not None
            if isinstance(outcome, Book):
                assert outcome is values[0]
            elif isinstance(outcome, OSError):
                assert any(outcome is exc for exc in raised)
            else:
                assert outcome == "cancelled"
                assert patience is not None
        if values:
            assert await once() is values[0]
            assert once.statistics().runs == started

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
