"""TokenBucket: the door of the shop, on Trio's virtual clock."""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

import trioshop
from trioshop import TokenBucket


async def test_TokenBucket_starts_full() -> None:
    bucket = TokenBucket(1, burst=3)
    assert bucket.tokens == 3
    for _ in range(3):
        bucket.acquire_nowait()
    with pytest.raises(trio.WouldBlock):
        bucket.acquire_nowait()
    assert bucket.statistics().granted == 3


async def test_TokenBucket_ticker_waiters_finish_100ms_apart(
    autojump_clock: trio.testing.MockClock,
) -> None:
    bucket = TokenBucket(10, burst=1)
    start = trio.current_time()
    finished: list[tuple[int, float]] = []

    async def customer(i: int) -> None:
        await bucket.acquire()
        finished.append((i, trio.current_time() - start))

    async with trio.open_nursery() as nursery:
        for i in range(3):
            nursery.start_soon(customer, i)
            await trio.testing.wait_all_tasks_blocked()
    assert finished == [(0, 0.0), (1, 0.1), (2, pytest.approx(0.2, abs=1e-12))]


async def test_TokenBucket_refills_continuously_up_to_burst(
    autojump_clock: trio.testing.MockClock,
) -> None:
    bucket = TokenBucket(4, burst=2)
    bucket.acquire_nowait(2)
    assert bucket.tokens == 0
    await trio.sleep(0.25)
    assert bucket.tokens == pytest.approx(1.0)
    await trio.sleep(100)
    assert bucket.tokens == 2


async def test_TokenBucket_polled_for_five_seconds_grants_600(
    autojump_clock: trio.testing.MockClock,
) -> None:
    bucket = TokenBucket(100, burst=100)
    end = trio.current_time() + 5
    granted = 0
    while trio.current_time() <= end:
        try:
            bucket.acquire_nowait()
        except trio.WouldBlock:
            await trio.sleep(0.001)
        else:
            granted += 1
    assert 599 <= granted <= 601


async def test_TokenBucket_waiters_are_fifo(autojump_clock: trio.testing.MockClock) -> None:
    # A big request at the head is not overtaken by small ones behind it.
    bucket = TokenBucket(1, burst=3)
    bucket.acquire_nowait(3)
    start = trio.current_time()
    order: list[tuple[str, float]] = []

    async def customer(name: str, n: int) -> None:
        await bucket.acquire(n)
        order.append((name, trio.current_time() - start))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(customer, "group of 3", 3)
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(customer, "single", 1)
        await trio.testing.wait_all_tasks_blocked()
        # A newcomer may not jump the line even though a token is there by now.
        await trio.sleep(1.5)
        with pytest.raises(trio.WouldBlock):
            bucket.acquire_nowait()
    assert order == [("group of 3", 3.0), ("single", 4.0)]


async def test_TokenBucket_cancelled_waiter_takes_nothing_and_lets_next_go(
    autojump_clock: trio.testing.MockClock,
) -> None:
    bucket = TokenBucket(1, burst=2)
    bucket.acquire_nowait(2)
    start = trio.current_time()
    done: list[tuple[str, float]] = []

    async def customer(name: str, n: int, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        with trio.CancelScope() as scope:
            task_status.started(scope)
            await bucket.acquire(n)
            done.append((name, trio.current_time() - start))

    async with trio.open_nursery() as nursery:
        head: trio.CancelScope = await nursery.start(customer, "head", 2)
        await nursery.start(customer, "next", 1)
        await trio.testing.wait_all_tasks_blocked()
        assert bucket.statistics().waiting == 2
        await trio.sleep(0.5)
        head.cancel()
    # The cancelled head took nothing: "next" got the token due at 1.0, not at 3.0.
    assert done == [("next", 1.0)]
    assert bucket.statistics().waiting == 0
    assert bucket.statistics().granted == 3
    await trio.sleep(1.0)
    assert bucket.tokens == pytest.approx(1.0)


async def test_TokenBucket_infinite_rate_never_waits(
    autojump_clock: trio.testing.MockClock,
) -> None:
    bucket = TokenBucket(math.inf, burst=2)
    start = trio.current_time()
    for _ in range(1000):
        await bucket.acquire(2)
        bucket.acquire_nowait()
    assert trio.current_time() == start
    assert bucket.statistics().granted == 3000


async def test_TokenBucket_rate_change_settles_old_rate_first(
    autojump_clock: trio.testing.MockClock,
) -> None:
    bucket = TokenBucket(1, burst=10)
    bucket.acquire_nowait(10)
    await trio.sleep(2)
    bucket.rate = 10
    assert bucket.rate == 10
    assert bucket.tokens == pytest.approx(2.0)
    await trio.sleep(0.5)
    assert bucket.tokens == pytest.approx(7.0)


async def test_TokenBucket_rate_change_retimes_the_sleeping_waiter(
    autojump_clock: trio.testing.MockClock,
) -> None:
    bucket = TokenBucket(1, burst=1)
    bucket.acquire_nowait()
    start = trio.current_time()
    woke: list[float] = []

    async def customer() -> None:
        await bucket.acquire()
        woke.append(trio.current_time() - start)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(customer)
        await trio.sleep(0.5)
        bucket.rate = 10  # half a token earned; the other half takes 0.05 s now
    assert woke == [pytest.approx(0.55)]

    # Switching to an infinite rate wakes the waiter at once.
    async with trio.open_nursery() as nursery:
        nursery.start_soon(customer)
        await trio.testing.wait_all_tasks_blocked()
        switched = trio.current_time() - start
        bucket.rate = math.inf
    assert woke == [pytest.approx(0.55), switched]


@pytest.mark.parametrize("offset", [0.0, 1e6, 123456789.123])
@pytest.mark.parametrize("rate", [3.0, 7.0, 0.1 + 0.2, 1 / 3, 1e-3 * 17])
def test_TokenBucket_float_rounding_never_spins(offset: float, rate: float) -> None:
    # Waiting for 0.9999999999999999 tokens must not turn into a sleep of 1e-18 s,
    # which MockClock cannot advance by: every acquire below must move the clock on.
    clock = trio.testing.MockClock(autojump_threshold=0)
    clock.jump(offset)

    async def main() -> list[float]:
        bucket = TokenBucket(rate, burst=1)
        times = []
        for _ in range(200):
            with trio.fail_after(2 / rate):
                await bucket.acquire()
            times.append(trio.current_time())
        return times

    times = trio.run(main, clock=clock)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(g == pytest.approx(1 / rate, rel=1e-6, abs=1e-6) for g in gaps)


async def test_TokenBucket_acquire_is_a_checkpoint() -> None:
    bucket = TokenBucket(math.inf, burst=5)
    with trio.testing.assert_checkpoints():
        await bucket.acquire()
    with trio.testing.assert_no_checkpoints():
        bucket.acquire_nowait()
        bucket.statistics()
        _ = bucket.tokens


async def test_TokenBucket_cancelled_caller_fails_even_with_tokens_free(
    autojump_clock: trio.testing.MockClock,
) -> None:
    bucket = TokenBucket(1, burst=1)
    with trio.CancelScope() as scope:
        scope.cancel()
        await bucket.acquire()
    assert scope.cancelled_caught
    assert bucket.tokens == 1
    # acquire_nowait ignores cancellation
    with trio.CancelScope() as scope:
        scope.cancel()
        bucket.acquire_nowait()
        await trio.lowlevel.checkpoint()
    assert scope.cancelled_caught
    assert bucket.tokens == 0


async def test_TokenBucket_statistics_and_repr(autojump_clock: trio.testing.MockClock) -> None:
    bucket = TokenBucket(2, burst=4)
    bucket.acquire_nowait(3)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(bucket.acquire, 4)
        await trio.testing.wait_all_tasks_blocked()
        stats = bucket.statistics()
        assert stats == trioshop.TokenBucketStatistics(
            rate=2.0, burst=4, tokens=1.0, waiting=1, granted=3
        )
        assert repr(bucket) == "<trioshop.TokenBucket 1/4 tokens, 2/s, 1 waiting>"
    assert bucket.statistics().granted == 7
    assert bucket.burst == 4


def test_TokenBucket_can_be_made_outside_trio() -> None:
    bucket = TokenBucket(5, burst=2)
    assert repr(bucket) == "<trioshop.TokenBucket 2/2 tokens, 5/s, 0 waiting>"


@pytest.mark.parametrize(
    ("kwargs", "exc", "message"),
    [
        ({"rate": 0}, ValueError, "rate must be > 0, got 0"),
        ({"rate": -1.5}, ValueError, "rate must be > 0, got -1.5"),
        ({"rate": math.nan}, ValueError, "rate must not be NaN"),
        ({"rate": -math.inf}, ValueError, "rate must be > 0, got -inf"),
        ({"rate": "10"}, TypeError, "rate must be a number, got '10'"),
        ({"rate": 1, "burst": 0}, ValueError, "burst must be >= 1, got 0"),
        ({"rate": 1, "burst": 2.0}, TypeError, "burst must be an int, got 2.0"),
        ({"rate": 1, "burst": True}, TypeError, "burst must be an int, got True"),
        (
            {"rate": 1, "burst": 2**53 + 1},
            ValueError,
            "burst must be <= 2**53, got 9007199254740993",
        ),
    ],
)
def test_TokenBucket_invalid_arguments(
    kwargs: dict[str, Any], exc: type[Exception], message: str
) -> None:
    with pytest.raises(exc, match=re.escape(message)):
        TokenBucket(**kwargs)


async def test_TokenBucket_rate_beyond_the_float_range_is_infinite() -> None:
    # An int too large for a float is a valid rate (> 0), not an OverflowError.
    bucket = TokenBucket(10**400, burst=2)
    assert bucket.rate == math.inf
    for _ in range(10):
        bucket.acquire_nowait(2)
    bucket.rate = 10**400
    assert bucket.rate == math.inf
    with pytest.raises(ValueError, match="rate must be > 0, got -1000"):
        bucket.rate = -(10**400)


@pytest.mark.parametrize(
    ("n", "exc", "message"),
    [
        (0, ValueError, "n must be >= 1, got 0"),
        (4, ValueError, "n must be <= burst (3), got 4"),
        (1.0, TypeError, "n must be an int, got 1.0"),
    ],
)
async def test_TokenBucket_invalid_n(n: Any, exc: type[Exception], message: str) -> None:
    bucket = TokenBucket(1, burst=3)
    with pytest.raises(exc, match=re.escape(message)):
        bucket.acquire_nowait(n)
    with pytest.raises(exc, match=re.escape(message)):
        await bucket.acquire(n)
    bucket.acquire_nowait(3)  # nothing was taken by the bad calls


@pytest.mark.parametrize(
    ("rate", "message"), [(0, "rate must be > 0, got 0"), (math.nan, "rate must not be NaN")]
)
async def test_TokenBucket_invalid_rate_setter(rate: float, message: str) -> None:
    bucket = TokenBucket(1)
    with pytest.raises(ValueError, match=re.escape(message)):
        bucket.rate = rate
    assert bucket.rate == 1


# -- properties -----------------------------------------------------------------------

_requests = st.lists(
    st.tuples(
        st.floats(0, 2, allow_nan=False),  # when the customer arrives
        st.integers(1, 5),  # how many tokens (capped at burst)
        st.none() | st.floats(0, 1.5, allow_nan=False),  # gives up after this long
    ),
    max_size=12,
)


@given(
    rate=st.floats(0.5, 50, allow_nan=False),
    burst=st.integers(1, 5),
    requests=_requests,
    prefill_wait=st.floats(0, 1, allow_nan=False),
)
def test_TokenBucket_is_fifo_and_never_grants_more_than_burst_plus_rate_t(
    rate: float, burst: int, requests: list[tuple[float, int, float | None]], prefill_wait: float
) -> None:
    grants: list[tuple[float, int]] = []
    outcomes: dict[int, str] = {}
    asked: list[int] = []
    granted_order: list[int] = []

    async def customer(i: int, arrive: float, n: int, patience: float | None) -> None:
        await trio.sleep(arrive)
        with trio.move_on_after(math.inf if patience is None else patience):
            asked.append(i)
            await bucket.acquire(n)
            grants.append((trio.current_time(), n))
            granted_order.append(i)
            outcomes[i] = "granted"
            return
        outcomes[i] = "gave up"

    async def main() -> None:
        await trio.sleep(prefill_wait)
        async with trio.open_nursery() as nursery:
            for i, (arrive, n, patience) in enumerate(requests):
                nursery.start_soon(customer, i, arrive, min(n, burst), patience)
        stats.append(bucket.statistics())

    bucket = TokenBucket(rate, burst=burst)
    stats: list[trioshop.TokenBucketStatistics] = []
    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))

    # Every customer ends one way or the other; nobody is stuck.
    assert len(outcomes) == len(requests)
    assert sum(n for _, n in grants) == stats[0].granted
    assert stats[0].waiting == 0
    assert all(outcomes[i] == "granted" for i, r in enumerate(requests) if r[2] is None)
    # First come, first served: whoever asked first got their tokens no later. (Grants
    # at the same instant are reported after a schedule point, in any order.)
    granted_at = {i: t for i, (t, _) in zip(granted_order, grants, strict=True)}
    in_order = [granted_at[i] for i in asked if i in granted_at]
    assert in_order == sorted(in_order)
    # In any window [a, b], at most burst + rate * (b - a) tokens were granted.
    times = sorted(grants)
    for i, (a, _) in enumerate(times):
        total = 0
        for b, n in times[i:]:
            total += n
            assert total <= burst + rate * (b - a) + 1e-9, (a, b, total)
