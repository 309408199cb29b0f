"""open_pipeline and Stage: sources, stages, fan-out, ordering, errors, early exit."""

from __future__ import annotations

import functools
import os
import threading
from typing import TYPE_CHECKING, Any

import attrs
import outcome
import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

import trioshop

from .pipeline_support import task_count

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator


class Boom(Exception):
    """A stage failed on purpose."""


async def double(x: int) -> int:
    await trio.sleep(0.1)
    return 2 * x


async def add_one(x: int) -> int:
    return x + 1


async def evens_twice(x: int) -> AsyncIterator[int]:
    """Drop odd items, emit even ones twice (a filter and a splitter in one)."""
    if x % 2 == 0:
        await trio.sleep(0.1)
        yield x
        yield x


def square(x: int) -> tuple[int, int]:
    """Module level, so run_in='process' can pickle it."""
    return x * x, os.getpid()


async def collect(receive: trio.abc.ReceiveChannel[Any]) -> list[Any]:
    return [item async for item in receive]


# ---------------------------------------------------------------- sources and stages


async def test_open_pipeline_accepts_every_kind_of_source(autojump_clock: trio.abc.Clock) -> None:
    def sync_gen() -> Iterator[int]:
        yield from range(4)

    async def async_gen() -> AsyncIterator[int]:
        for i in range(4):
            await trio.sleep(0.1)
            yield i

    class AsyncIterableOnly:
        def __aiter__(self) -> AsyncIterator[int]:
            return async_gen()

    send, receive = trio.open_memory_channel[int](4)
    for i in range(4):
        send.send_nowait(i)
    send.close()

    for source in ([0, 1, 2, 3], range(4), sync_gen(), async_gen(), AsyncIterableOnly(), receive):
        async with trioshop.open_pipeline(source, double) as out:
            assert await collect(out) == [0, 2, 4, 6], source
    with pytest.raises(trio.ClosedResourceError):
        receive.receive_nowait()  # the pipeline took the channel over and closed it


async def test_open_pipeline_without_stages_passes_items_through() -> None:
    async with trioshop.open_pipeline("abc") as out:
        assert await collect(out) == ["a", "b", "c"]
    async with trioshop.open_pipeline("ab", errors="collect") as out:
        assert await collect(out) == [outcome.Value("a"), outcome.Value("b")]


async def test_Stage_async_function_maps_one_to_one(autojump_clock: trio.abc.Clock) -> None:
    async with trioshop.open_pipeline(range(5), double, add_one, trioshop.Stage(double)) as out:
        assert await collect(out) == [2 * (2 * x + 1) for x in range(5)]


async def test_Stage_async_generator_emits_zero_or_more(autojump_clock: trio.abc.Clock) -> None:
    async with trioshop.open_pipeline(range(5), evens_twice, add_one) as out:
        assert await collect(out) == [1, 1, 3, 3, 5, 5]


async def test_Stage_accepts_partial_and_async_callable_objects() -> None:
    class Repeat:
        async def __call__(self, x: int) -> AsyncIterator[int]:
            for _ in range(2):
                await trio.lowlevel.checkpoint()
                yield x

    async def scale(factor: int, x: int) -> int:
        await trio.lowlevel.checkpoint()
        return factor * x

    class Negate:
        async def __call__(self, x: int) -> int:
            await trio.lowlevel.checkpoint()
            return -x

    async with trioshop.open_pipeline(
        [1, 2],
        functools.partial(scale, 10),
        trioshop.Stage(Negate(), workers=2, ordered=True),
        Repeat(),
    ) as out:
        assert await collect(out) == [-10, -10, -20, -20]


# ---------------------------------------------------------------- fan-out and order


@pytest.mark.parametrize("ordered", [False, True])
async def test_Stage_workers_bound_the_concurrency(
    autojump_clock: trio.abc.Clock, ordered: bool
) -> None:
    running = peak = 0

    async def brew(x: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await trio.sleep(1 + x % 3)
        running -= 1
        return x

    async with trioshop.open_pipeline(
        range(20), trioshop.Stage(brew, workers=3, ordered=ordered)
    ) as out:
        results = await collect(out)
    assert peak == 3
    assert sorted(results) == list(range(20))
    if ordered:
        assert results == list(range(20))
    else:
        assert results != list(range(20))  # the fast ones overtook the slow ones


async def test_Stage_ordered_keeps_order_of_a_generator_stage(
    autojump_clock: trio.abc.Clock,
) -> None:
    async def pieces(x: int) -> AsyncIterator[tuple[int, int]]:
        for k in range(x % 3):
            await trio.sleep(0.5 if x % 2 else 0.1)
            yield (x, k)

    stage = trioshop.Stage(pieces, workers=4, ordered=True)
    async with trioshop.open_pipeline(range(10), stage) as out:
        results = await collect(out)
    assert results == [(x, k) for x in range(10) for k in range(x % 3)]


@pytest.mark.parametrize(("workers", "buffer"), [(1, 0), (3, 0), (3, 2), (4, 5)])
async def test_Stage_ordered_reorder_buffer_is_bounded(
    autojump_clock: trio.abc.Clock, workers: int, buffer: int
) -> None:
    # Item 0 is very slow. The others finish fast and must wait for it; they may not pile
    # up: at most `workers` items are taken from the source while item 0 is being made.
    started: list[int] = []
    item_0_done = False
    started_before_0_done = 0

    async def brew(x: int) -> int:
        nonlocal item_0_done, started_before_0_done
        started.append(x)
        await trio.sleep(1000 if x == 0 else 0.1)
        if x == 0:
            item_0_done = True
            started_before_0_done = len(started)
        return x

    stage = trioshop.Stage(brew, workers=workers, ordered=True, buffer=buffer)
    async with trioshop.open_pipeline(range(1000), stage) as out:
        assert await collect(out) == list(range(1000))
    assert item_0_done
    assert started_before_0_done == workers


async def test_Stage_unordered_slow_item_does_not_hold_back_the_rest(
    autojump_clock: trio.abc.Clock,
) -> None:
    async def brew(x: int) -> int:
        await trio.sleep(1000 if x == 0 else 0.1)
        return x

    async with trioshop.open_pipeline(range(50), trioshop.Stage(brew, workers=2)) as out:
        results = await collect(out)
    assert results[-1] == 0
    assert sorted(results) == list(range(50))


async def test_Stage_buffer_lets_a_stage_run_ahead(autojump_clock: trio.abc.Clock) -> None:
    made: list[int] = []

    async def brew(x: int) -> int:
        made.append(x)
        await trio.lowlevel.checkpoint()
        return x

    async with trioshop.open_pipeline(range(100), trioshop.Stage(brew, buffer=5)) as out:
        await trio.sleep(1)  # the consumer is late: the counter fills up, then brew waits
        assert len(made) == 5 + 1  # five on the counter, one in hand waiting for room
        assert await collect(out) == list(range(100))


# ---------------------------------------------------------------- threads and processes


async def test_Stage_run_in_thread_runs_sync_fn_off_the_trio_thread() -> None:
    trio_thread = threading.get_ident()
    lock = threading.Lock()
    running = peak = 0
    barrier = threading.Barrier(2, timeout=30)

    def blocking(x: int) -> tuple[int, bool]:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        barrier.wait()  # returns only when two calls run at once
        with lock:
            running -= 1
        return x, threading.get_ident() != trio_thread

    stage = trioshop.Stage(blocking, workers=2, run_in="thread", ordered=True)
    async with trioshop.open_pipeline(range(6), stage) as out:
        assert await collect(out) == [(x, True) for x in range(6)]
    assert peak == 2


async def test_Stage_run_in_process_uses_worker_processes() -> None:
    stage = trioshop.Stage(square, workers=2, run_in="process", ordered=True)
    async with trioshop.open_pipeline(range(4), stage) as out:
        results = await collect(out)
    assert [value for value, _ in results] == [0, 1, 4, 9]
    assert all(pid != os.getpid() for _, pid in results)


async def test_Stage_run_in_thread_collects_errors() -> None:
    def parse(text: str) -> int:
        return int(text)

    stage = trioshop.Stage(parse, run_in="thread")
    async with trioshop.open_pipeline(["1", "x", "3"], stage, errors="collect") as out:
        results = await collect(out)
    assert results[0] == outcome.Value(1)
    assert isinstance(results[1], outcome.Error)
    assert isinstance(results[1].error, ValueError)
    assert results[2] == outcome.Value(3)


# ---------------------------------------------------------------- errors


async def test_open_pipeline_errors_raise_cancels_every_stage_and_the_source(
    autojump_clock: trio.abc.Clock,
) -> None:
    source_closed = False
    cancelled: list[int] = []

    async def orders() -> AsyncIterator[int]:
        nonlocal source_closed
        try:
            for i in range(1000):
                yield i
        finally:
            source_closed = True

    async def machine(x: int) -> int:
        if x == 3:
            raise Boom("out of beans")
        try:
            await trio.sleep(10)
        except trio.Cancelled:
            cancelled.append(x)
            raise
        return x

    before = task_count()
    with pytest.RaisesGroup(pytest.RaisesExc(Boom, match="out of beans")):
        async with trioshop.open_pipeline(
            orders(), trioshop.Stage(machine, workers=4), add_one
        ) as out:
            await collect(out)
    assert source_closed
    assert sorted(cancelled) == [0, 1, 2]
    assert task_count() == before


async def test_open_pipeline_errors_collect_reports_each_item_once(
    autojump_clock: trio.abc.Clock,
) -> None:
    seen_by_steam: list[int] = []

    async def pull(x: int) -> int:
        await trio.sleep(0.1 * (x % 4))
        if x % 3 == 0:
            raise Boom(f"shot {x} failed")
        return x

    async def steam(x: int) -> int:
        seen_by_steam.append(x)
        return x * 10

    async with trioshop.open_pipeline(
        range(10), trioshop.Stage(pull, workers=3, ordered=True), steam, errors="collect"
    ) as out:
        results = await collect(out)
    assert len(results) == 10
    for x, result in enumerate(results):
        if x % 3 == 0:
            assert isinstance(result, outcome.Error)
            assert str(result.error) == f"shot {x} failed"
        else:
            assert result == outcome.Value(x * 10)
    assert sorted(seen_by_steam) == [x for x in range(10) if x % 3]


async def test_open_pipeline_errors_collect_generator_failing_midway() -> None:
    async def split(x: int) -> AsyncIterator[int]:
        yield x
        if x == 1:
            raise Boom("split failed")
        yield x

    async with trioshop.open_pipeline([0, 1, 2], split, add_one, errors="collect") as out:
        results = await collect(out)
    assert results[:3] == [outcome.Value(1), outcome.Value(1), outcome.Value(2)]
    assert isinstance(results[3], outcome.Error)
    assert results[4:] == [outcome.Value(3), outcome.Value(3)]


async def test_open_pipeline_errors_collect_does_not_collect_a_failing_source() -> None:
    def orders() -> Iterator[int]:
        yield 1
        raise Boom("the order printer jammed")

    with pytest.RaisesGroup(Boom):
        async with trioshop.open_pipeline(orders(), add_one, errors="collect") as out:
            assert await out.receive() == outcome.Value(2)
            await out.receive()


async def test_open_pipeline_errors_collect_keeps_user_outcomes_apart() -> None:
    # Items that happen to be outcome.Error objects are just items.
    item = outcome.Error(Boom("not ours"))
    async with trioshop.open_pipeline([item], add_one, errors="collect") as out:
        (result,) = await collect(out)
    assert isinstance(result, outcome.Error)
    assert isinstance(result.error, TypeError)  # add_one(item) failed: item + 1


# ---------------------------------------------------------------- the consumer leaves early


async def test_open_pipeline_consumer_break_shuts_every_stage_down(
    autojump_clock: trio.abc.Clock,
) -> None:
    before = task_count()
    async with trioshop.open_pipeline(
        range(10**9), double, trioshop.Stage(double, workers=3, ordered=True)
    ) as out:
        async for x in out:
            if x >= 8:
                break
    assert task_count() == before


async def test_open_pipeline_consumer_exception_leaves_unwrapped(
    autojump_clock: trio.abc.Clock,
) -> None:
    before = task_count()
    with pytest.raises(KeyError, match="no such drink"):  # noqa: PT012
        async with trioshop.open_pipeline(range(10**9), double, evens_twice) as out:
            await out.receive()
            raise KeyError("no such drink")
    assert task_count() == before


async def test_open_pipeline_consumer_cancelled_from_outside(
    autojump_clock: trio.abc.Clock,
) -> None:
    before = task_count()
    received = []
    with trio.move_on_after(5) as scope:
        async with trioshop.open_pipeline(range(10**9), double) as out:
            async for x in out:
                received.append(x)
    assert scope.cancelled_caught
    assert received == [2 * i for i in range(len(received))]
    assert len(received) >= 40
    assert task_count() == before


async def test_open_pipeline_consumer_and_stage_failures_are_both_reported() -> None:
    async def stubborn(x: int) -> int:
        try:
            await trio.sleep_forever()
        finally:
            raise Boom("the steam wand stuck")  # failing during cleanup

    with pytest.RaisesGroup(KeyError, Boom):
        async with trioshop.open_pipeline([1], stubborn) as out:
            await trio.testing.wait_all_tasks_blocked()
            raise KeyError("customer left")
    del out


async def test_open_pipeline_consumer_closing_the_channel_stops_the_line(
    autojump_clock: trio.abc.Clock,
) -> None:
    before = task_count()
    for stage in (
        trioshop.Stage(double, workers=3),
        trioshop.Stage(double, workers=3, ordered=True),
        trioshop.Stage(evens_twice, workers=2),
    ):
        async with trioshop.open_pipeline(range(10**9), stage) as out:
            await out.receive()
            await out.aclose()
            # every stage ends by itself within one item's time, without being cancelled
            await trio.sleep(0.2)
            assert task_count() == before


async def test_open_pipeline_receive_channel_source_is_closed_on_early_exit() -> None:
    send, receive = trio.open_memory_channel[int](0)
    async with trio.open_nursery() as nursery:

        async def produce() -> None:
            with send, pytest.raises(trio.BrokenResourceError):  # noqa: PT012
                for i in range(10**9):
                    await send.send(i)

        nursery.start_soon(produce)
        async with trioshop.open_pipeline(receive, add_one) as out:
            assert await out.receive() == 1


async def test_open_pipeline_entry_and_exit_are_checkpoints() -> None:
    with trio.testing.assert_checkpoints():
        async with trioshop.open_pipeline([]) as out:
            pass
    with trio.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(trio.Cancelled):
            async with trioshop.open_pipeline([1]) as out:
                pytest.fail("entered a cancelled pipeline")
    del out


# ---------------------------------------------------------------- bad input


async def sync_fn(x: int) -> int:
    return x


def plain(x: int) -> int:
    return x


def plain_gen(x: int) -> Iterator[int]:
    yield x


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: trioshop.Stage(sync_fn, workers=0), ValueError, r"^workers must be >= 1, got 0$"),
        (lambda: trioshop.Stage(sync_fn, workers=2.0), TypeError, r"^workers must be an int"),
        (lambda: trioshop.Stage(sync_fn, buffer=-1), ValueError, r"^buffer must be >= 0, got -1$"),
        (
            lambda: trioshop.Stage(sync_fn, ordered=1),
            TypeError,
            r"^ordered must be a bool, got 1$",
        ),
        (
            lambda: trioshop.Stage(plain, run_in="gpu"),
            ValueError,
            r"^run_in must be None, 'thread' or 'process', got 'gpu'$",
        ),
        (lambda: trioshop.Stage(42), TypeError, r"^fn must be callable, got 42$"),
        (lambda: trioshop.Stage(plain), TypeError, r"sync function .*pass run_in='thread'"),
        (
            lambda: trioshop.Stage(sync_fn, run_in="thread"),
            TypeError,
            r"must be a sync function with run_in='thread'.*drop run_in",
        ),
        (
            lambda: trioshop.Stage(evens_twice, run_in="process"),
            TypeError,
            r"must be a sync function with run_in='process'",
        ),
        (
            lambda: trioshop.Stage(plain_gen, run_in="thread"),
            TypeError,
            r"got the generator function .*return a list",
        ),
        (
            lambda: trioshop.Stage(lambda x: x, run_in="process"),
            TypeError,
            r"^fn must be picklable with run_in='process'",
        ),
    ],
)
def test_Stage_rejects_bad_arguments_at_once(call: Any, exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (
            lambda: trioshop.open_pipeline(42, sync_fn),
            TypeError,
            r"^source must be an iterable, an async iterable or a receive channel, got 42$",
        ),
        (
            lambda: trioshop.open_pipeline([], sync_fn, errors="ignore"),
            ValueError,
            r"^errors must be 'raise' or 'collect', got 'ignore'$",
        ),
        (
            lambda: trioshop.open_pipeline([], sync_fn, "steam"),
            TypeError,
            r"^stages\[1\] must be a Stage or an async function, got 'steam'$",
        ),
        (
            lambda: trioshop.open_pipeline([], plain),
            TypeError,
            r"^stages\[0\] must be an async function .*got the sync function",
        ),
    ],
)
def test_open_pipeline_rejects_bad_arguments_at_once(
    call: Any, exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        call()


async def test_Stage_and_open_pipeline_calls_are_not_checkpoints(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.testing.assert_no_checkpoints():
        stage = trioshop.Stage(double, workers=2)
        manager = trioshop.open_pipeline([1], stage)
        repr(stage)
    async with manager as out:
        assert await collect(out) == [2]


def test_Stage_is_immutable() -> None:
    stage = trioshop.Stage(double, workers=2)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        stage.workers = 0  # type: ignore[misc]
    assert stage.workers == 2


def test_Stage_repr_and_fields() -> None:
    stage = trioshop.Stage(plain, workers=3, ordered=True, buffer=2, run_in="thread")
    assert repr(stage) == "<trioshop.Stage plain workers=3 ordered buffer=2 run_in='thread'>"
    assert repr(trioshop.Stage(double)) == "<trioshop.Stage double workers=1>"
    assert (stage.fn, stage.workers, stage.ordered, stage.buffer, stage.run_in) == (
        plain,
        3,
        True,
        2,
        "thread",
    )


# ---------------------------------------------------------------- properties


stage_layouts = st.lists(
    st.fixed_dictionaries(
        {
            "workers": st.integers(1, 4),
            "ordered": st.booleans(),
            "buffer": st.integers(0, 2),
            "generator": st.booleans(),
        }
    ),
    min_size=1,
    max_size=4,
)


@given(
    n_items=st.integers(0, 12),
    layout=stage_layouts,
    errors=st.sampled_from(["raise", "collect"]),
    cancel_after=st.none() | st.floats(0, 3),
    data=st.data(),
)
def test_open_pipeline_property_every_item_exactly_once(
    n_items: int,
    layout: list[dict[str, Any]],
    errors: str,
    cancel_after: float | None,
    data: st.DataObject,
) -> None:
    items = list(range(n_items))
    durations = [
        data.draw(
            st.lists(st.sampled_from([0, 0, 0.1, 0.25, 1]), min_size=n_items, max_size=n_items)
        )
        for _ in layout
    ]
    failing = [
        data.draw(st.sets(st.sampled_from(items), max_size=2) if items else st.just(set()))
        for _ in layout
    ]
    processed: list[tuple[int, int]] = []

    def make_stage(index: int, spec: dict[str, Any]) -> trioshop.Stage:
        async def work(x: int) -> int:
            processed.append((index, x))
            await trio.sleep(durations[index][x])
            if x in failing[index]:
                raise Boom(index, x)
            return x

        async def work_gen(x: int) -> AsyncIterator[int]:
            yield await work(x)

        fn = work_gen if spec["generator"] else work
        return trioshop.Stage(
            fn, workers=spec["workers"], ordered=spec["ordered"], buffer=spec["buffer"]
        )

    stages = [make_stage(i, spec) for i, spec in enumerate(layout)]
    in_order = all(spec["ordered"] or spec["workers"] == 1 for spec in layout)
    results: list[Any] = []
    raised: list[BaseException] = []

    async def main() -> None:
        before = task_count()
        with trio.move_on_after(cancel_after if cancel_after is not None else float("inf")):
            try:
                async with trioshop.open_pipeline(items, *stages, errors=errors) as out:
                    async for result in out:
                        results.append(result)
            except ExceptionGroup as group:
                raised.append(group)
        assert task_count() == before

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))

    # Where each item fails first, if anywhere; it must not be seen by any later stage.
    first_failure = {}
    for x in items:
        for index in range(len(layout)):
            if x in failing[index]:
                first_failure[x] = index
                break
    for index, x in processed:
        assert index <= first_failure.get(x, len(layout)), (index, x)

    if errors == "collect":
        values = [r.value for r in results if isinstance(r, outcome.Value)]
        failed = [r.error for r in results if isinstance(r, outcome.Error)]
        for error in failed:
            assert isinstance(error, Boom)
            index, x = error.args
            assert first_failure[x] == index
        seen = [r.value if isinstance(r, outcome.Value) else r.error.args[1] for r in results]
        assert len(seen) == len(set(seen))  # exactly once
        assert not raised
        if cancel_after is None:
            assert sorted(seen) == items
            assert set(values) == set(items) - set(first_failure)
            if in_order:
                assert seen == items
    else:
        assert len(results) == len(set(results))  # at most once
        if raised:
            (group,) = raised
            assert all(isinstance(leaf, Boom) for leaf in _leaves(group))
        if cancel_after is None and not first_failure:
            assert not raised
            assert sorted(results) == items
        if cancel_after is None and first_failure:
            assert raised
        if in_order:
            assert results == sorted(results)
        assert not set(results) & set(first_failure)


def _leaves(group: BaseExceptionGroup[Any]) -> list[BaseException]:
    leaves: list[BaseException] = []
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            leaves.extend(_leaves(exc))
        else:
            leaves.append(exc)
    return leaves


# ---------------------------------------------------------------- review: source failures


class BrokenConnection:
    """A source over a connection that breaks after two chunks (an async iterable)."""

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"
        raise trio.BrokenResourceError("connection reset by peer")


@pytest.mark.parametrize("errors", ["raise", "collect"])
@pytest.mark.parametrize("with_stage", [False, True])
async def test_open_pipeline_source_raising_brokenresourceerror_is_a_failure(
    errors: str, with_stage: bool
) -> None:
    # A BrokenResourceError from the source is the source failing, not the first stage
    # having stopped reading: it must not end the results as if every item had come.
    async def upper(chunk: bytes) -> bytes:
        return chunk.upper()

    stages = (upper,) if with_stage else ()
    got: list[Any] = []
    with pytest.RaisesGroup(pytest.RaisesExc(trio.BrokenResourceError, match="reset")):
        async with trioshop.open_pipeline(
            BrokenConnection(),
            *stages,
            errors=errors,  # type: ignore[arg-type]
        ) as out:
            async for item in out:
                got.append(item)
    # The chunks that did arrive came through (how many depends on the teardown).
    expected = [b"A", b"B"] if with_stage else [b"a", b"b"]
    if errors == "collect":
        expected = [outcome.Value(chunk) for chunk in expected]
    assert got == expected[: len(got)]


# ---------------------------------------------------------------- review: cancelled on the way out


async def test_open_pipeline_cancelled_from_outside_while_shutting_down_leaves_unwrapped(
    autojump_clock: trio.abc.Clock,
) -> None:
    # The consumer leaves normally; a stage finishing shielded work holds up the shutdown
    # and an enclosing deadline passes meanwhile. That cancellation, from outside, must
    # leave as one plain Cancelled (not a group of the stages' Cancelled).
    async def stubborn(x: int) -> int:
        with trio.CancelScope(shield=True):
            await trio.sleep(5)
        return x

    seen: list[BaseException] = []
    with trio.move_on_after(1) as scope:
        try:
            async with trioshop.open_pipeline([1, 2], stubborn):
                await trio.sleep(0.5)
        except BaseException as exc:
            seen.append(exc)
            raise
    assert scope.cancelled_caught
    assert len(seen) == 1
    assert type(seen[0]) is trio.Cancelled
    assert trio.current_time() == 5


# ---------------------------------------------------------------- review: filters and early close


async def keep_first(x: int) -> AsyncIterator[int]:
    """A filter that lets only item 0 through."""
    await trio.sleep(0.01)
    if x == 0:
        yield x


@pytest.mark.parametrize("ordered", [False, True])
async def test_open_pipeline_closing_the_results_stops_a_filter_stage(
    autojump_clock: trio.abc.Clock, ordered: bool
) -> None:
    # Documented: closing the results channel early makes the stages end by themselves.
    # A filter emits nothing for most items, so no send of its own ever fails: it must
    # still notice, instead of draining the whole source.
    send, receive = trio.open_memory_channel[int](0)
    sent = 0
    told = trio.Event()

    async def producer() -> None:
        nonlocal sent
        async with send:
            try:
                for i in range(1000):
                    await send.send(i)
                    sent += 1
            except trio.BrokenResourceError:
                told.set()

    stage = trioshop.Stage(keep_first, workers=2, ordered=ordered)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(producer)
        async with trioshop.open_pipeline(receive, stage) as out:
            assert await out.receive() == 0
            out.close()
            with trio.fail_after(1):
                await told.wait()
    assert sent < 10
