"""Backoff and retry: the late milk delivery, in virtual time."""

from __future__ import annotations

import itertools
import math
import random
import re
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from trioshop import Backoff, retry


class Late(Exception):
    pass


class WrongOrder(Exception):
    pass


def take(n: int, backoff: Backoff, rng: random.Random | None = None) -> list[float]:
    return list(itertools.islice(backoff.delays(rng), n))


class Flaky:
    """Fails ``failures`` times (with the given exceptions), then returns ``"milk"``."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls: list[float] = []

    async def __call__(self) -> str:
        self.calls.append(trio.current_time())
        await trio.lowlevel.checkpoint()
        if self.errors:
            raise self.errors.pop(0)
        return "milk"


# -- Backoff --------------------------------------------------------------------------


def test_Backoff_base_delays_grow_exponentially_up_to_max_delay() -> None:
    backoff = Backoff(initial=0.1, multiplier=2, max_delay=1, jitter=None)
    assert take(7, backoff) == [0.1 * 2**k for k in range(4)] + [1.0] * 3
    assert take(7, backoff) == list(itertools.islice(backoff.base_delays(), 7))


def test_Backoff_huge_exponents_stay_capped() -> None:
    backoff = Backoff(initial=1, multiplier=1e10, max_delay=math.inf, jitter=None)
    delays = take(40, backoff)
    assert delays[:3] == [1.0, 1e10, 1e20]
    assert delays[-1] == math.inf  # overflow caps, never raises
    assert take(3, Backoff(initial=0, multiplier=3, max_delay=5, jitter=None)) == [0.0] * 3


def test_Backoff_overflowing_power_does_not_jump_to_max_delay() -> None:
    # multiplier**k overflows a float at k = 1024 for 2.0, but initial * multiplier**k
    # does not: 0 * anything is 0, and a tiny initial is still far below max_delay.
    zero = list(itertools.islice(Backoff(initial=0, jitter=None).base_delays(), 1100))
    assert zero == [0.0] * 1100
    tiny = Backoff(initial=1e-300, max_delay=1e10, jitter=None)
    delays = list(itertools.islice(tiny.base_delays(), 1030))
    assert delays[1024] == pytest.approx(1e-300 * 2.0**1000 * 2.0**24)
    assert delays == sorted(delays)
    assert delays[-1] < 1e10
    capped = list(itertools.islice(tiny.base_delays(), 1045))
    assert capped[-1] == 1e10  # 1e-300 * 2**1043 > 1e10: the cap still applies


def test_Backoff_defaults() -> None:
    backoff = Backoff()
    assert (backoff.initial, backoff.multiplier, backoff.max_delay, backoff.jitter) == (
        0.1,
        2.0,
        10.0,
        "full",
    )
    assert repr(backoff) == "Backoff(initial=0.1, multiplier=2.0, max_delay=10.0, jitter='full')"


@pytest.mark.parametrize("jitter", [None, "full", "equal", "decorrelated", 0.25, 1])
def test_Backoff_is_reproducible_with_a_seeded_rng(jitter: Any) -> None:
    backoff = Backoff(initial=0.5, max_delay=20, jitter=jitter)
    first = take(20, backoff, random.Random(42))
    assert first == take(20, backoff, random.Random(42))
    if jitter is not None:
        assert first != take(20, backoff, random.Random(43))


def test_Backoff_plus_minus_25_percent() -> None:
    # The seed's classic: each delay within 25% of the exponential schedule.
    backoff = Backoff(initial=1, multiplier=2, max_delay=8, jitter=0.25)
    delays = take(200, backoff, random.Random(7))
    bases = take(200, Backoff(initial=1, multiplier=2, max_delay=8, jitter=None))
    assert all(0.75 * b <= d <= 1.25 * b for d, b in zip(delays, bases, strict=True))
    assert min(d / b for d, b in zip(delays, bases, strict=True)) < 0.8
    assert max(d / b for d, b in zip(delays, bases, strict=True)) > 1.2


@given(
    initial=st.floats(0, 5, allow_nan=False),
    multiplier=st.floats(1, 4, allow_nan=False),
    extra=st.floats(0, 50, allow_nan=False),
    jitter=st.one_of(
        st.none(),
        st.sampled_from(["full", "equal", "decorrelated"]),
        st.floats(0, 1, exclude_min=True),
    ),
    seed=st.integers(0, 2**32),
)
def test_Backoff_delays_lie_within_their_jitter_bounds(
    initial: float, multiplier: float, extra: float, jitter: Any, seed: int
) -> None:
    max_delay = initial + extra
    backoff = Backoff(initial=initial, multiplier=multiplier, max_delay=max_delay, jitter=jitter)
    delays = take(30, backoff, random.Random(seed))
    bases = [min(max_delay, initial * multiplier**k) for k in range(30)]
    previous = initial
    for d, base in zip(delays, bases, strict=True):
        if jitter is None:
            assert d == base
        elif jitter == "full":
            assert 0 <= d <= base
        elif jitter == "equal":
            assert base / 2 <= d <= base
        elif jitter == "decorrelated":
            assert initial <= d <= min(max_delay, 3 * previous) * (1 + 1e-12)
            previous = d
        else:
            assert base * (1 - jitter) * (1 - 1e-12) <= d <= base * (1 + jitter) * (1 + 1e-12)


@pytest.mark.parametrize(
    ("kwargs", "exc", "message"),
    [
        ({"initial": -0.1}, ValueError, "initial must be >= 0, got -0.1"),
        ({"initial": math.nan}, ValueError, "initial must not be NaN"),
        ({"initial": math.inf}, ValueError, "initial must be finite, got inf"),
        ({"initial": 10**400}, ValueError, "initial must be finite, got 1000"),
        ({"multiplier": 10**400}, ValueError, "multiplier must be finite, got 1000"),
        ({"initial": -(10**400)}, ValueError, "initial must be finite, got -1000"),
        ({"initial": "1"}, TypeError, "initial must be a number, got '1'"),
        ({"multiplier": 0.5}, ValueError, "multiplier must be >= 1, got 0.5"),
        ({"multiplier": math.nan}, ValueError, "multiplier must not be NaN"),
        ({"max_delay": 0.05}, ValueError, "max_delay must be >= initial (0.1), got 0.05"),
        ({"max_delay": math.nan}, ValueError, "max_delay must not be NaN"),
        ({"jitter": "gaussian"}, ValueError, "jitter must be None, 'full', 'equal', "),
        ({"jitter": 0}, ValueError, "or a fraction in (0, 1], got 0"),
        ({"jitter": 1.5}, ValueError, "or a fraction in (0, 1], got 1.5"),
        ({"jitter": math.nan}, ValueError, "or a fraction in (0, 1], got nan"),
        ({"jitter": True}, ValueError, "or a fraction in (0, 1], got True"),
    ],
)
def test_Backoff_invalid_arguments(
    kwargs: dict[str, Any], exc: type[Exception], message: str
) -> None:
    with pytest.raises(exc, match=re.escape(message)):
        Backoff(**kwargs)


# -- retry ----------------------------------------------------------------------------

NO_JITTER = Backoff(initial=0.1, multiplier=2, max_delay=10, jitter=None)


async def test_retry_succeeds_after_failures_with_exact_delays(
    autojump_clock: trio.testing.MockClock,
) -> None:
    dairy = Flaky(Late("truck stuck"), Late("truck stuck"))
    retries: list[tuple[int, str, float]] = []
    start = trio.current_time()
    result = await retry(
        dairy,
        attempts=3,
        backoff=NO_JITTER,
        on_retry=lambda attempt, exc, delay: retries.append((attempt, str(exc), delay)),
    )
    assert result == "milk"
    assert [t - start for t in dairy.calls] == [0.0, 0.1, pytest.approx(0.3)]
    assert retries == [(1, "truck stuck", 0.1), (2, "truck stuck", 0.2)]


async def test_retry_passes_args(autojump_clock: trio.testing.MockClock) -> None:
    async def deliver(what: str, crates: int) -> str:
        await trio.lowlevel.checkpoint()
        return f"{crates} crates of {what}"

    assert await retry(deliver, "oat milk", 2) == "2 crates of oat milk"


async def test_retry_raises_last_exception_with_a_note_listing_attempts(
    autojump_clock: trio.testing.MockClock,
) -> None:
    errors = [Late(f"try {i}") for i in range(1, 4)]
    dairy = Flaky(*errors)
    retries: list[int] = []
    with pytest.raises(Late) as info:
        await retry(
            dairy,
            attempts=3,
            backoff=NO_JITTER,
            on_retry=lambda attempt, exc, delay: retries.append(attempt),
        )
    assert info.value is errors[2]
    assert retries == [1, 2]  # never after the final failure
    assert len(dairy.calls) == 3
    assert info.value.__notes__ == [
        "trioshop.retry gave up after 3 of 3 attempts (no attempts left); "
        "times from the first failure:\n"
        "  attempt 1 failed at +0.000s: Late('try 1'); retried after 0.100s\n"
        "  attempt 2 failed at +0.100s: Late('try 2'); retried after 0.200s\n"
        "  attempt 3 failed at +0.300s: Late('try 3')"
    ]


async def test_retry_single_attempt_never_sleeps(
    autojump_clock: trio.testing.MockClock,
) -> None:
    dairy = Flaky(Late("no"))
    start = trio.current_time()
    with pytest.raises(Late, match="no"):
        await retry(dairy, attempts=1)
    assert trio.current_time() == start


async def test_retry_never_retries_cancelled(autojump_clock: trio.testing.MockClock) -> None:
    calls = 0

    async def slow() -> None:
        nonlocal calls
        calls += 1
        await trio.sleep(10)

    with trio.move_on_after(1) as scope:
        await retry(slow, attempts=5, backoff=NO_JITTER)
    assert scope.cancelled_caught
    assert calls == 1


async def test_retry_never_retries_a_group_with_a_cancelled_leaf(
    autojump_clock: trio.testing.MockClock,
) -> None:
    calls = 0

    async def half_cancelled() -> None:
        nonlocal calls
        calls += 1
        raise BaseExceptionGroup("", [Late(), KeyboardInterrupt()])

    with pytest.raises(BaseExceptionGroup):
        await retry(half_cancelled, attempts=5, backoff=NO_JITTER)
    assert calls == 1


@pytest.mark.parametrize(
    ("retry_on", "error", "expected_calls"),
    [
        (Late, Late(), 3),
        (Late, WrongOrder(), 1),
        ((WrongOrder, Late), Late(), 3),
        ((WrongOrder, KeyError), Late(), 1),
        (lambda exc: "again" in str(exc), Late("try again"), 3),
        (lambda exc: "again" in str(exc), Late("give up"), 1),
        (Late, ExceptionGroup("", [Late(), ExceptionGroup("", [Late()])]), 3),
        (Late, ExceptionGroup("", [Late(), WrongOrder()]), 1),
        (lambda exc: isinstance(exc, Late), ExceptionGroup("", [Late()]), 3),
    ],
)
async def test_retry_retry_on_type_tuple_or_predicate(
    autojump_clock: trio.testing.MockClock,
    retry_on: Any,
    error: Exception,
    expected_calls: int,
) -> None:
    calls = 0

    async def fn() -> None:
        nonlocal calls
        calls += 1
        raise error

    with pytest.raises(type(error)):
        await retry(fn, attempts=3, backoff=NO_JITTER, retry_on=retry_on)
    assert calls == expected_calls


async def test_retry_non_retryable_after_retryable_failures_gets_a_note(
    autojump_clock: trio.testing.MockClock,
) -> None:
    dairy = Flaky(Late("stuck"), WrongOrder("soy, not oat"))
    with pytest.raises(WrongOrder) as info:
        await retry(dairy, attempts=5, backoff=NO_JITTER, retry_on=Late)
    assert len(dairy.calls) == 2
    assert info.value.__notes__ == [
        "trioshop.retry gave up after 2 of 5 attempts (not retryable); "
        "times from the first failure:\n"
        "  attempt 1 failed at +0.000s: Late('stuck'); retried after 0.100s\n"
        "  attempt 2 failed at +0.100s: WrongOrder('soy, not oat')"
    ]


async def test_retry_stops_early_when_the_next_delay_passes_the_deadline(
    autojump_clock: trio.testing.MockClock,
) -> None:
    dairy = Flaky(*[Late(str(i)) for i in range(10)])
    retries: list[float] = []
    start = trio.current_time()
    with trio.move_on_after(0.25) as scope, pytest.raises(Late) as info:
        await retry(
            dairy,
            attempts=10,
            backoff=NO_JITTER,
            on_retry=lambda attempt, exc, delay: retries.append(delay),
        )
    # 0.0: fail, sleep 0.1; 0.1: fail, and 0.1 + 0.2 >= 0.25: stop now, don't sleep.
    assert not scope.cancelled_caught
    assert str(info.value) == "1"
    assert [t - start for t in dairy.calls] == [0.0, 0.1]
    assert trio.current_time() - start == 0.1
    assert retries == [0.1]
    assert "(deadline)" in info.value.__notes__[0]
    assert "the next delay, 0.200s, would pass the deadline" in info.value.__notes__[0]


async def test_retry_with_jitter_is_reproducible(autojump_clock: trio.testing.MockClock) -> None:
    async def run(seed: int) -> list[float]:
        dairy = Flaky(*[Late() for _ in range(4)])
        start = trio.current_time()
        await retry(dairy, attempts=5, backoff=Backoff(initial=1), rng=random.Random(seed))
        return [t - start for t in dairy.calls]

    first = await run(1)
    assert first == pytest.approx(await run(1), abs=1e-9)
    assert first != pytest.approx(await run(2), abs=1e-9)
    expected = list(itertools.accumulate(take(4, Backoff(initial=1), random.Random(1))))
    assert first[1:] == pytest.approx(expected)


async def test_retry_is_exactly_as_much_a_checkpoint_as_fn() -> None:
    with trio.testing.assert_checkpoints():
        assert await retry(Flaky()) == "milk"

    async def no_checkpoint() -> str:
        return "milk"

    with trio.testing.assert_no_checkpoints():
        assert await retry(no_checkpoint) == "milk"


async def test_retry_cancelled_caller_is_cancelled_by_fn_and_never_retried(
    autojump_clock: trio.testing.MockClock,
) -> None:
    dairy = Flaky()
    with trio.CancelScope() as scope:
        scope.cancel()
        await retry(dairy, attempts=5)
    assert scope.cancelled_caught
    assert len(dairy.calls) == 1

    # A failing fn that never checkpoints: a cancelled scope's deadline is -inf, so no
    # delay fits before it and retry stops at once with the real failure.
    calls = 0

    async def fails_at_once() -> None:
        nonlocal calls
        calls += 1
        raise Late

    with trio.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(Late) as info:
            await retry(fails_at_once, attempts=5, backoff=NO_JITTER)
    assert calls == 1
    assert "(deadline)" in info.value.__notes__[0]


@pytest.mark.parametrize(
    ("kwargs", "exc", "message"),
    [
        ({"attempts": 0}, ValueError, "attempts must be >= 1, got 0"),
        ({"attempts": 2.0}, TypeError, "attempts must be an int, got 2.0"),
        ({"backoff": 0.1}, TypeError, "backoff must be a trioshop.Backoff, got 0.1"),
        ({"retry_on": 3}, TypeError, "retry_on must be an exception type, a tuple"),
        ({"retry_on": (Late, int)}, TypeError, "retry_on must be an exception type"),
        ({"retry_on": int}, TypeError, "retry_on must be an exception type"),
        ({"on_retry": "print"}, TypeError, "on_retry must be callable or None, got 'print'"),
        ({"rng": 42}, TypeError, "rng must be a random.Random or None, got 42"),
    ],
)
async def test_retry_invalid_arguments(
    kwargs: dict[str, Any], exc: type[Exception], message: str
) -> None:
    dairy = Flaky()
    with pytest.raises(exc, match=re.escape(message)):
        await retry(dairy, **kwargs)
    assert dairy.calls == []


async def test_retry_rejects_a_sync_fn() -> None:
    with pytest.raises(TypeError, match="fn must be an async function"):
        await retry(print)  # type: ignore[arg-type]
