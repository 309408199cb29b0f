"""merge (fan-in) and gather (run several, results in order)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

import trioshop

from .pipeline_support import task_count

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


class Boom(Exception):
    """Something failed on purpose."""


async def produce(send: trio.MemorySendChannel[str], name: str, count: int, every: float) -> None:
    async with send:
        for i in range(count):
            await trio.sleep(every)
            await send.send(f"{name}{i}")


class WrappedReceiveChannel(trio.abc.ReceiveChannel[str]):
    """A receive channel that is not a memory channel, to see that merge closes it."""

    def __init__(self, inner: trio.MemoryReceiveChannel[str]) -> None:
        self.inner = inner
        self.closed = False

    async def receive(self) -> str:
        return await self.inner.receive()

    async def aclose(self) -> None:
        self.closed = True
        await self.inner.aclose()


# ---------------------------------------------------------------- merge


async def test_merge_carries_every_item_as_it_arrives(autojump_clock: trio.abc.Clock) -> None:
    shots_tx, shots_rx = trio.open_memory_channel[str](0)
    milk_tx, milk_rx = trio.open_memory_channel[str](0)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(produce, shots_tx, "shot", 3, 1.0)
        nursery.start_soon(produce, milk_tx, "milk", 2, 1.6)
        async with trioshop.merge(shots_rx, milk_rx) as counter:
            arrived = [(trio.current_time(), item) async for item in counter]
    assert [item for _, item in arrived] == ["shot0", "milk0", "shot1", "shot2", "milk1"]
    assert [t for t, _ in arrived] == pytest.approx([1.0, 1.6, 2.0, 3.0, 3.2])


async def test_merge_of_nothing_ends_at_once() -> None:
    async with trioshop.merge() as counter:
        assert [item async for item in counter] == []


async def test_merge_ends_only_when_every_input_has_ended(
    autojump_clock: trio.abc.Clock,
) -> None:
    fast_tx, fast_rx = trio.open_memory_channel[str](0)
    slow_tx, slow_rx = trio.open_memory_channel[str](0)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(produce, fast_tx, "fast", 1, 0.1)
        nursery.start_soon(produce, slow_tx, "slow", 1, 100.0)
        async with trioshop.merge(fast_rx, slow_rx) as counter:
            assert [item async for item in counter] == ["fast0", "slow0"]
            assert trio.current_time() == 100.0


async def test_merge_closes_its_inputs_and_stops_producers_on_early_exit(
    autojump_clock: trio.abc.Clock,
) -> None:
    before = task_count()
    memory_tx, memory_rx = trio.open_memory_channel[str](0)
    other_tx, other_rx = trio.open_memory_channel[str](0)
    wrapped = WrappedReceiveChannel(other_rx)
    async with trio.open_nursery() as nursery:

        async def endless(send: trio.MemorySendChannel[str]) -> None:
            with send, pytest.raises(trio.BrokenResourceError):  # noqa: PT012
                while True:
                    await send.send("x")

        nursery.start_soon(endless, memory_tx)
        nursery.start_soon(endless, other_tx)
        async with trioshop.merge(memory_rx, wrapped) as counter:
            async for _ in counter:
                break
    assert wrapped.closed
    with pytest.raises(trio.ClosedResourceError):
        memory_rx.receive_nowait()
    assert task_count() == before


async def test_merge_consumer_exception_leaves_unwrapped() -> None:
    before = task_count()
    send, receive = trio.open_memory_channel[int](1)
    send.send_nowait(1)
    with pytest.raises(KeyError, match="spilled"):  # noqa: PT012
        async with trioshop.merge(receive) as counter:
            assert await counter.receive() == 1
            raise KeyError("spilled")
    assert task_count() == before
    send.close()


async def test_merge_entry_is_a_checkpoint() -> None:
    with trio.testing.assert_checkpoints():
        async with trioshop.merge():
            pass
    send, receive = trio.open_memory_channel[int](0)
    with trio.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(trio.Cancelled):
            async with trioshop.merge(receive):
                pytest.fail("entered a cancelled merge")
    with pytest.raises(trio.BrokenResourceError):
        send.send_nowait(1)  # the input was closed even so


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((42,), r"^receive_channels\[0\] must be a trio.abc.ReceiveChannel, got 42$"),
        (("ab",), r"^receive_channels\[0\] must be a trio.abc.ReceiveChannel, got 'ab'$"),
        ("same", r"^receive_channels\[1\] is passed twice, got "),
    ],
)
def test_merge_rejects_bad_arguments_at_once(args: Any, match: str) -> None:
    if args == "same":
        _, receive = trio.open_memory_channel[int](0)
        args = (receive, receive)
    with pytest.raises(TypeError, match=match):
        trioshop.merge(*args)


# ---------------------------------------------------------------- gather


async def pull(name: str, seconds: float) -> str:
    await trio.sleep(seconds)
    return name


async def test_gather_returns_results_in_argument_order(autojump_clock: trio.abc.Clock) -> None:
    start = trio.current_time()
    results = await trioshop.gather(
        functools.partial(pull, "slow", 3), functools.partial(pull, "fast", 1)
    )
    assert results == ["slow", "fast"]
    assert trio.current_time() - start == 3  # at once, not one after the other


async def test_gather_first_failure_cancels_the_rest(autojump_clock: trio.abc.Clock) -> None:
    cancelled: list[str] = []

    async def steam() -> str:
        try:
            await trio.sleep(10)
        except trio.Cancelled:
            cancelled.append("steam")
            raise
        return "milk"

    async def broken() -> str:
        await trio.sleep(1)
        raise Boom("machine malfunction")

    before = task_count()
    with pytest.RaisesGroup(pytest.RaisesExc(Boom, match="machine malfunction")):
        await trioshop.gather(steam, broken)
    assert cancelled == ["steam"]
    assert trio.current_time() == 1
    assert task_count() == before


async def test_gather_is_a_checkpoint() -> None:
    async def instant() -> int:
        return 1

    with trio.testing.assert_checkpoints():
        assert await trioshop.gather() == []
    with trio.testing.assert_checkpoints():
        assert await trioshop.gather(instant, instant) == [1, 1]
    called = False

    async def spy() -> None:
        nonlocal called
        called = True

    with trio.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(trio.Cancelled):
            await trioshop.gather(spy)
    assert not called


async def async_gen() -> AsyncIterator[int]:
    yield 1


def sync_fn() -> int:
    return 1


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((42,), r"^async_fns\[0\] must be an async callable, got 42$"),
        ((pull, sync_fn), r"^async_fns\[1\] must be an async function \(async def\)"),
        ((async_gen,), r"^async_fns\[0\] must be an async function, got the async generator"),
    ],
)
async def test_gather_rejects_bad_arguments_at_once(args: Any, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        await trioshop.gather(*args)


@given(
    durations=st.lists(st.sampled_from([0, 0.5, 1, 2]), max_size=6),
    failing=st.sets(st.integers(0, 5), max_size=2),
    cancel_after=st.none() | st.floats(0, 3),
)
def test_gather_property_results_in_order_or_a_failure(
    durations: list[float], failing: set[int], cancel_after: float | None
) -> None:
    async def job(index: int) -> int:
        await trio.sleep(durations[index])
        if index in failing:
            raise Boom(index)
        return index

    outcome: list[Any] = []

    async def main() -> None:
        before = task_count()
        fns = [functools.partial(job, i) for i in range(len(durations))]
        with trio.move_on_after(cancel_after if cancel_after is not None else float("inf")):
            try:
                outcome.append(await trioshop.gather(*fns))
            except ExceptionGroup as group:
                outcome.append(group)
        assert task_count() == before

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    will_fail = [i for i in range(len(durations)) if i in failing]
    if outcome and isinstance(outcome[0], list):
        assert outcome[0] == list(range(len(durations)))
        assert not will_fail
    elif outcome:
        (group,) = outcome
        # only the failures that happened first: no later one (the rest was cancelled)
        first = min(durations[i] for i in will_fail)
        leaves = group.exceptions
        assert leaves
        assert all(isinstance(e, Boom) and durations[e.args[0]] == first for e in leaves)
    else:
        assert cancel_after is not None
        assert cancel_after <= max(durations, default=0)


# ---------------------------------------------------------------- review: cancellation shape


async def test_gather_cancelled_from_outside_raises_a_plain_Cancelled(
    autojump_clock: trio.abc.Clock,
) -> None:
    # Documented: cancelling gather cancels every call and raises trio.Cancelled (not an
    # ExceptionGroup of the calls' Cancelled), so `except trio.Cancelled:` sees it.
    async def slow() -> int:
        await trio.sleep(10)
        return 1

    seen: list[BaseException] = []
    with trio.move_on_after(1) as scope:
        try:
            await trioshop.gather(slow, slow)
        except BaseException as exc:
            seen.append(exc)
            raise
    assert scope.cancelled_caught
    assert len(seen) == 1
    assert type(seen[0]) is trio.Cancelled
    assert trio.current_time() == 1


async def test_gather_failure_while_cancelled_from_outside_is_not_hidden(
    autojump_clock: trio.abc.Clock,
) -> None:
    async def fails_on_cancel() -> int:
        try:
            await trio.sleep(10)
        finally:
            raise Boom("the steam wand jammed")
        return 1

    async def slow() -> int:
        await trio.sleep(10)
        return 1

    # The Cancelled are the move_on_after's to absorb; the failure goes on.
    with pytest.RaisesGroup(Boom, flatten_subgroups=True), trio.move_on_after(1):
        await trioshop.gather(fails_on_cancel, slow)
