"""CircuitBreaker: the out-of-order sign on the espresso machine, in virtual time."""

from __future__ import annotations

import contextlib
import math
import re
from typing import Any

import attrs
import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

import trioshop
from trioshop import BreakerState, CircuitBreaker, CircuitOpen

CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN


class Broken(Exception):
    pass


class Benign(Exception):
    """An exception the breaker is told is not the machine's fault."""


async def ok() -> str:
    await trio.lowlevel.checkpoint()
    return "espresso"


async def fail() -> None:
    await trio.lowlevel.checkpoint()
    raise Broken("no pressure")


async def fail_n(breaker: CircuitBreaker, n: int) -> None:
    for _ in range(n):
        with pytest.raises(Broken):
            await breaker.call(fail)


def recorder() -> tuple[list[tuple[BreakerState, BreakerState]], Any]:
    seen: list[tuple[BreakerState, BreakerState]] = []

    def on_state_change(old: BreakerState, new: BreakerState) -> None:
        seen.append((old, new))

    return seen, on_state_change


async def test_CircuitBreaker_opens_after_consecutive_failures() -> None:
    seen, on_change = recorder()
    breaker = CircuitBreaker(failure_threshold=3, on_state_change=on_change)
    await fail_n(breaker, 2)
    assert await breaker.call(ok) == "espresso"  # a success resets the count
    await fail_n(breaker, 2)
    assert breaker.state is CLOSED
    assert breaker.statistics().consecutive_failures == 2
    await fail_n(breaker, 1)
    assert breaker.state is OPEN
    assert seen == [(CLOSED, OPEN)]


async def test_CircuitBreaker_open_rejects_without_calling_fn(
    autojump_clock: trio.testing.MockClock,
) -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=30)
    await fail_n(breaker, 1)
    await trio.sleep(12.5)
    called = []

    async def fn() -> None:
        called.append(True)

    with pytest.raises(CircuitOpen) as info:
        await breaker.call(fn)
    assert info.value.retry_after == 17.5
    assert isinstance(info.value, trioshop.TrioshopError)
    assert called == []
    with pytest.raises(CircuitOpen):
        async with breaker:
            called.append(True)
    assert called == []
    assert breaker.statistics().rejections == 2


async def test_CircuitBreaker_half_opens_lazily_strictly_after_reset_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen, on_change = recorder()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=10, on_state_change=on_change)
    await fail_n(breaker, 1)
    await trio.sleep(10)
    assert breaker.state is OPEN  # exactly reset_timeout: not yet
    with pytest.raises(CircuitOpen) as info:
        await breaker.call(ok)
    # Not 0.0: sleeping retry_after must get past the boundary, or a retry loop would
    # spin for ever under MockClock. It is the smallest step that does.
    assert 0.0 < info.value.retry_after < 1e-9
    await trio.sleep(info.value.retry_after)
    assert seen == [(CLOSED, OPEN)]  # lazy: nothing happened until someone looked
    assert breaker.state is HALF_OPEN
    assert seen == [(CLOSED, OPEN), (OPEN, HALF_OPEN)]


async def test_CircuitBreaker_sleeping_retry_after_in_a_loop_gets_through(
    autojump_clock: trio.testing.MockClock,
) -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=17.5)
    await fail_n(breaker, 1)
    start = trio.current_time()
    hints = []
    while True:
        try:
            await breaker.call(ok)
            break
        except CircuitOpen as exc:
            hints.append(exc.retry_after)
            await trio.sleep(exc.retry_after)
        assert len(hints) < 5, hints
    assert trio.current_time() - start == pytest.approx(17.5)
    assert hints[0] == 17.5


async def test_CircuitBreaker_half_open_limits_concurrent_trials(
    autojump_clock: trio.testing.MockClock,
) -> None:
    breaker = CircuitBreaker(
        failure_threshold=1, reset_timeout=1, half_open_max_calls=2, success_threshold=3
    )
    await fail_n(breaker, 1)
    await trio.sleep(2)
    release = trio.Event()
    results: list[str] = []

    async def slow_trial() -> None:
        await release.wait()
        results.append("trial done")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(breaker.call, slow_trial)
        nursery.start_soon(breaker.call, slow_trial)
        await trio.testing.wait_all_tasks_blocked()
        assert breaker.statistics().in_flight == 2
        with pytest.raises(CircuitOpen) as info:
            await breaker.call(ok)
        assert info.value.retry_after == 0.0
        release.set()
    assert results == ["trial done"] * 2
    assert breaker.state is HALF_OPEN  # two successes of the three needed
    assert await breaker.call(ok) == "espresso"
    assert breaker.state is CLOSED


async def test_CircuitBreaker_half_open_failure_reopens_and_restarts_timer(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen, on_change = recorder()
    breaker = CircuitBreaker(
        failure_threshold=2, reset_timeout=5, success_threshold=2, on_state_change=on_change
    )
    await fail_n(breaker, 2)
    await trio.sleep(6)
    assert await breaker.call(ok) == "espresso"
    await fail_n(breaker, 1)  # one failure in half-open is enough
    assert breaker.state is OPEN
    await trio.sleep(5)
    with pytest.raises(CircuitOpen):
        await breaker.call(ok)
    await trio.sleep(0.1)
    assert await breaker.call(ok) == "espresso"
    assert await breaker.call(ok) == "espresso"
    assert seen == [
        (CLOSED, OPEN),
        (OPEN, HALF_OPEN),
        (HALF_OPEN, OPEN),
        (OPEN, HALF_OPEN),
        (HALF_OPEN, CLOSED),
    ]


async def test_CircuitBreaker_ignores_results_from_an_older_generation(
    autojump_clock: trio.testing.MockClock,
) -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=1)
    slow_fail, slow_ok = trio.Event(), trio.Event()

    async def slow(event: trio.Event, outcome: str) -> None:
        await event.wait()
        if outcome == "fail":
            raise Broken

    async def call_ignoring(event: trio.Event, outcome: str) -> None:
        with contextlib.suppress(Broken):
            await breaker.call(slow, event, outcome)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(call_ignoring, slow_fail, "fail")
        nursery.start_soon(call_ignoring, slow_ok, "ok")
        await trio.testing.wait_all_tasks_blocked()
        await fail_n(breaker, 2)  # opens while the slow calls are in flight
        await trio.sleep(2)
        assert breaker.state is HALF_OPEN
        slow_fail.set()  # a failure from before the state change: ignored
        await trio.testing.wait_all_tasks_blocked()
        assert breaker.state is HALF_OPEN
        slow_ok.set()  # a success from before: ignored too, does not close it
    assert breaker.state is HALF_OPEN
    assert breaker.statistics().ignored == 2
    assert await breaker.call(ok) == "espresso"
    assert breaker.state is CLOSED


async def test_CircuitBreaker_cancelled_counts_as_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=1)
    with trio.move_on_after(1):
        await breaker.call(trio.sleep_forever)
    assert breaker.state is CLOSED
    await fail_n(breaker, 1)
    await trio.sleep(2)
    # A cancelled trial frees its half-open slot and changes nothing.
    with trio.move_on_after(1):
        await breaker.call(trio.sleep_forever)
    assert breaker.state is HALF_OPEN
    assert breaker.statistics().in_flight == 0
    assert await breaker.call(ok) == "espresso"
    assert breaker.state is CLOSED
    assert breaker.statistics().ignored == 2


async def test_CircuitBreaker_is_failure_false_counts_as_success(
    autojump_clock: trio.testing.MockClock,
) -> None:
    breaker = CircuitBreaker(
        failure_threshold=2,
        reset_timeout=1,
        is_failure=lambda exc: not isinstance(exc, Benign),
    )

    async def benign() -> None:
        raise Benign("customer changed their mind")

    await fail_n(breaker, 1)
    with pytest.raises(Benign):
        await breaker.call(benign)
    await fail_n(breaker, 1)
    assert breaker.state is CLOSED  # the benign error reset the count
    await fail_n(breaker, 1)
    assert breaker.state is OPEN
    await trio.sleep(2)
    with pytest.raises(Benign):
        await breaker.call(benign)
    assert breaker.state is CLOSED  # and it closes a half-open breaker


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        (ExceptionGroup("", [Broken(), Benign()]), "failure"),
        (ExceptionGroup("", [Benign(), ExceptionGroup("", [Benign()])]), "success"),
        (BaseExceptionGroup("", [Benign(), KeyboardInterrupt()]), "success"),
        (ExceptionGroup("", [ExceptionGroup("", [Broken()])]), "failure"),
        (BaseExceptionGroup("", [KeyboardInterrupt()]), "nothing"),
    ],
)
async def test_CircuitBreaker_classifies_exception_groups_by_leaves(
    group: BaseExceptionGroup[BaseException], expected: str
) -> None:
    breaker = CircuitBreaker(
        failure_threshold=1, is_failure=lambda exc: not isinstance(exc, Benign)
    )

    async def raiser() -> None:
        raise group

    with pytest.raises(BaseExceptionGroup):
        await breaker.call(raiser)
    stats = breaker.statistics()
    assert (stats.failures, stats.successes, stats.ignored) == {
        "failure": (1, 0, 0),
        "success": (0, 1, 0),
        "nothing": (0, 0, 1),
    }[expected]
    assert stats.state is (OPEN if expected == "failure" else CLOSED)


async def test_CircuitBreaker_cancelled_leaves_in_a_group_count_as_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    breaker = CircuitBreaker(failure_threshold=1)

    async def two_forever() -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(trio.sleep_forever)
            nursery.start_soon(trio.sleep_forever)

    with trio.move_on_after(1):
        await breaker.call(two_forever)
    assert breaker.statistics().ignored == 1
    assert breaker.state is CLOSED


async def test_CircuitBreaker_async_with_guards_a_block(
    autojump_clock: trio.testing.MockClock,
) -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=1)
    async with breaker:
        await trio.sleep(0.1)
    for _ in range(2):
        with pytest.raises(Broken):
            async with breaker:
                raise Broken
    assert breaker.state is OPEN
    await trio.sleep(2)
    async with breaker as entered:  # the half-open trial
        assert entered is breaker
    assert breaker.state is CLOSED

    async def nested() -> None:
        async with breaker:  # nested blocks track their own generation
            async with breaker:
                pass
            raise Broken

    with pytest.raises(Broken):
        await nested()
    stats = breaker.statistics()
    assert stats.state is CLOSED
    assert (stats.successes, stats.failures, stats.in_flight) == (3, 3, 0)
    assert stats.consecutive_failures == 1


async def test_CircuitBreaker_holds_nothing_across_the_call(
    autojump_clock: trio.testing.MockClock,
) -> None:
    breaker = CircuitBreaker()
    start = trio.current_time()
    finished: list[float] = []

    async def brew() -> None:
        await trio.sleep(1)
        finished.append(trio.current_time() - start)

    async with trio.open_nursery() as nursery:
        for _ in range(5):
            nursery.start_soon(breaker.call, brew)
        await trio.testing.wait_all_tasks_blocked()
        assert breaker.statistics().in_flight == 5
    assert finished == [1.0] * 5


async def test_CircuitBreaker_checkpoints(autojump_clock: trio.testing.MockClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=10)
    with trio.testing.assert_checkpoints():
        await breaker.call(ok)
    with trio.testing.assert_checkpoints():
        async with breaker:
            pass
    await fail_n(breaker, 1)
    with trio.testing.assert_checkpoints(), pytest.raises(CircuitOpen):
        await breaker.call(ok)
    with trio.testing.assert_checkpoints(), pytest.raises(CircuitOpen):
        async with breaker:
            pass
    with trio.testing.assert_no_checkpoints():
        assert breaker.state is OPEN
        breaker.statistics()
        repr(breaker)


async def test_CircuitBreaker_call_adds_no_checkpoint_of_its_own() -> None:
    breaker = CircuitBreaker()

    async def no_checkpoint() -> str:
        return "espresso"

    with trio.testing.assert_no_checkpoints():
        assert await breaker.call(no_checkpoint) == "espresso"
    assert breaker.statistics().successes == 1


async def test_CircuitBreaker_cancelled_caller(autojump_clock: trio.testing.MockClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=10)
    called = []

    async def fn() -> None:
        called.append(True)
        await trio.lowlevel.checkpoint()

    # Admitted: fn's first checkpoint raises Cancelled, which counts as nothing.
    with trio.CancelScope() as scope:
        scope.cancel()
        await breaker.call(fn)
    assert scope.cancelled_caught
    assert called == [True]
    # `async with` is a full checkpoint on entry: the block never runs.
    with trio.CancelScope() as scope:
        scope.cancel()
        async with breaker:
            called.append(True)
    assert scope.cancelled_caught
    assert called == [True]
    assert breaker.statistics() == trioshop.CircuitBreakerStatistics(
        state=CLOSED,
        consecutive_failures=0,
        consecutive_successes=0,
        in_flight=0,
        successes=0,
        failures=0,
        rejections=0,
        ignored=1,
    )
    # Rejected: a cancelled caller gets Cancelled, not CircuitOpen.
    await fail_n(breaker, 1)
    with trio.CancelScope() as scope:
        scope.cancel()
        await breaker.call(fn)
    assert scope.cancelled_caught
    assert called == [True]
    assert breaker.statistics().rejections == 0


async def test_CircuitBreaker_repr(autojump_clock: trio.testing.MockClock) -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=30, success_threshold=3)
    assert repr(breaker) == "<trioshop.CircuitBreaker closed, 0/2 failures, 0 in flight>"
    await fail_n(breaker, 2)
    await trio.sleep(10)
    assert repr(breaker) == "<trioshop.CircuitBreaker open, retry after 20s, 0 in flight>"
    await trio.sleep(21)
    await breaker.call(ok)
    assert repr(breaker) == "<trioshop.CircuitBreaker half-open, 1/3 successes, 0 in flight>"


def test_CircuitBreaker_repr_outside_trio() -> None:
    breaker = CircuitBreaker(reset_timeout=2)
    assert repr(breaker) == "<trioshop.CircuitBreaker closed, 0/5 failures, 0 in flight>"


async def test_CircuitBreaker_call_rejects_sync_fn() -> None:
    breaker = CircuitBreaker()
    with pytest.raises(TypeError, match="fn must be an async function"):
        await breaker.call(print)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "exc", "message"),
    [
        ({"failure_threshold": 0}, ValueError, "failure_threshold must be >= 1, got 0"),
        ({"failure_threshold": 1.5}, TypeError, "failure_threshold must be an int, got 1.5"),
        ({"reset_timeout": -1}, ValueError, "reset_timeout must be >= 0, got -1"),
        ({"reset_timeout": math.nan}, ValueError, "reset_timeout must not be NaN"),
        ({"reset_timeout": "30"}, TypeError, "reset_timeout must be a number, got '30'"),
        ({"half_open_max_calls": 0}, ValueError, "half_open_max_calls must be >= 1, got 0"),
        ({"success_threshold": 0}, ValueError, "success_threshold must be >= 1, got 0"),
        ({"success_threshold": True}, TypeError, "success_threshold must be an int, got True"),
        ({"is_failure": 3}, TypeError, "is_failure must be callable or None, got 3"),
        ({"on_state_change": "x"}, TypeError, "on_state_change must be callable or None"),
    ],
)
def test_CircuitBreaker_invalid_arguments(
    kwargs: dict[str, Any], exc: type[Exception], message: str
) -> None:
    with pytest.raises(exc, match=re.escape(message)):
        CircuitBreaker(**kwargs)


# -- property: the breaker matches a small reference state machine ----------------------


@attrs.define
class Reference:
    """gobreaker's state machine, as plainly as it can be written."""

    failure_threshold: int
    reset_timeout: float
    half_open_max_calls: int
    success_threshold: int
    state: BreakerState = CLOSED
    generation: int = 0
    opened_at: float = 0.0
    failures: int = 0
    successes: int = 0
    trials: int = 0
    transitions: list[tuple[BreakerState, BreakerState]] = attrs.Factory(list)

    def go(self, new: BreakerState, now: float) -> None:
        self.transitions.append((self.state, new))
        self.state, self.generation = new, self.generation + 1
        self.failures = self.successes = self.trials = 0
        self.opened_at = now

    def look(self, now: float) -> BreakerState:
        if self.state is OPEN and now > self.opened_at + self.reset_timeout:
            self.go(HALF_OPEN, now)
        return self.state

    def admit(self, now: float) -> int | None:
        state = self.look(now)
        if state is OPEN or (state is HALF_OPEN and self.trials == self.half_open_max_calls):
            return None
        self.trials += state is HALF_OPEN
        return self.generation

    def finish(self, generation: int, outcome: str, now: float) -> None:
        self.look(now)
        if generation != self.generation:
            return
        self.trials -= self.state is HALF_OPEN
        if outcome in ("ok", "benign"):
            self.failures, self.successes = 0, self.successes + 1
            if self.state is HALF_OPEN and self.successes == self.success_threshold:
                self.go(CLOSED, now)
        elif outcome == "fail":
            self.failures, self.successes = self.failures + 1, 0
            if self.state is HALF_OPEN or self.failures == self.failure_threshold:
                self.go(OPEN, now)


# A step: start a call, finish a pending one (chosen by index) with an outcome, or let
# time pass. Starts and failures are common so that runs reach every state quickly.
_ACTIONS = ["start", "start", "fail", "start", "wait", "ok", "fail", "benign", "cancel", "wait"]
_steps = st.lists(
    st.tuples(st.sampled_from(_ACTIONS), st.integers(0, 3), st.sampled_from([1.0, 0.5, 3.0])),
    min_size=4,
    max_size=40,
)


@given(
    failure_threshold=st.integers(1, 3),
    reset_timeout=st.sampled_from([1.0, 0.0, 2.5]),
    half_open_max_calls=st.integers(1, 2),
    success_threshold=st.integers(1, 2),
    steps=_steps,
)
def test_CircuitBreaker_matches_reference_state_machine(
    failure_threshold: int,
    reset_timeout: float,
    half_open_max_calls: int,
    success_threshold: int,
    steps: list[tuple[str, int, float]],
) -> None:
    options = {
        "failure_threshold": failure_threshold,
        "reset_timeout": reset_timeout,
        "half_open_max_calls": half_open_max_calls,
        "success_threshold": success_threshold,
    }
    model = Reference(**options)
    transitions: list[tuple[BreakerState, BreakerState]] = []
    clock = trio.testing.MockClock()

    @attrs.define
    class Call:
        generation: int
        scope: trio.CancelScope = attrs.Factory(trio.CancelScope)
        event: trio.Event = attrs.Factory(trio.Event)
        outcome: str = ""

    async def main() -> None:
        breaker = CircuitBreaker(
            **options,
            is_failure=lambda exc: not isinstance(exc, Benign),
            on_state_change=lambda old, new: transitions.append((old, new)),
        )
        pending: list[Call] = []
        rejected: list[bool] = []

        async def caller(call: Call) -> None:
            async def machine() -> None:
                await call.event.wait()
                if call.outcome == "fail":
                    raise Broken
                if call.outcome == "benign":
                    raise Benign

            with call.scope:
                try:
                    await breaker.call(machine)
                except CircuitOpen:
                    rejected.append(True)
                except (Broken, Benign):
                    pass

        async with trio.open_nursery() as nursery:
            for action, index, dt in steps:
                now = trio.current_time()
                if action == "start":
                    generation = model.admit(now)
                    call = Call(-1 if generation is None else generation)
                    nursery.start_soon(caller, call)
                    await trio.testing.wait_all_tasks_blocked()
                    assert rejected == ([True] if generation is None else [])
                    rejected.clear()
                    if generation is not None:
                        pending.append(call)
                elif action == "wait":
                    clock.jump(dt)
                elif pending:
                    call = pending.pop(index % len(pending))
                    model.finish(call.generation, action, now)
                    call.outcome = action
                    if action == "cancel":
                        call.scope.cancel()
                    else:
                        call.event.set()
                    await trio.testing.wait_all_tasks_blocked()
                now = trio.current_time()
                assert breaker.state is model.look(now)
                assert transitions == model.transitions
                stats = breaker.statistics()
                assert stats.in_flight == len(pending)
                assert (stats.consecutive_failures, stats.consecutive_successes) == (
                    model.failures,
                    model.successes,
                )
            for call in pending:
                call.scope.cancel()

    trio.run(main, clock=clock)


async def test_CircuitBreaker_is_failure_is_not_asked_about_ignored_results(
    autojump_clock: trio.testing.MockClock,
) -> None:
    asked: list[BaseException] = []

    def is_failure(exc: BaseException) -> bool:
        asked.append(exc)
        return True

    breaker = CircuitBreaker(failure_threshold=1, is_failure=is_failure)
    with trio.move_on_after(1):
        await breaker.call(trio.sleep_forever)  # cancelled: nothing to ask
    assert asked == []
    release = trio.Event()

    async def slow_fail() -> None:
        await release.wait()
        raise Broken

    async def call_slow_fail() -> None:
        with pytest.raises(Broken):
            await breaker.call(slow_fail)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(call_slow_fail)  # admitted while closed
        await trio.testing.wait_all_tasks_blocked()
        await fail_n(breaker, 1)  # opens: a new generation
        assert len(asked) == 1
        release.set()  # the slow failure is from the old generation: ignored
    assert len(asked) == 1
    assert breaker.statistics().ignored == 2


async def test_CircuitBreaker_is_failure_that_raises_counts_as_nothing() -> None:
    def is_failure(exc: BaseException) -> bool:
        raise RuntimeError("bad classifier")

    breaker = CircuitBreaker(failure_threshold=1, is_failure=is_failure)
    with pytest.raises(RuntimeError, match="bad classifier"):
        await breaker.call(fail)
    stats = breaker.statistics()
    assert (stats.state, stats.in_flight, stats.failures) == (CLOSED, 0, 0)
    assert (stats.successes, stats.ignored) == (0, 1)  # counted, as nothing


async def test_CircuitBreaker_every_finished_call_is_counted_once_when_callbacks_raise(
    autojump_clock: trio.testing.MockClock,
) -> None:
    def on_state_change(old: BreakerState, new: BreakerState) -> None:
        if new is HALF_OPEN:
            raise RuntimeError("bad listener")

    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=1, on_state_change=on_state_change)
    release = trio.Event()

    async def slow_ok() -> str:
        await release.wait()
        return "espresso"

    async def call_slow_ok() -> None:
        # Its result is from before the breaker opened; recording it performs the lazy
        # open -> half-open transition, whose listener raises.
        with pytest.raises(RuntimeError, match="bad listener"):
            await breaker.call(slow_ok)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(call_slow_ok)
        await trio.testing.wait_all_tasks_blocked()
        await fail_n(breaker, 1)
        await trio.sleep(2)
        release.set()
    stats = breaker.statistics()
    assert stats.state is HALF_OPEN
    assert (stats.in_flight, stats.successes, stats.failures, stats.ignored) == (0, 0, 1, 1)
