"""Pipelines: a line of stages joined by channels, every stage a task in one nursery.

Layout of a running pipeline, ``open_pipeline(source, a, b)``::

    source pump --ch(0)--> a's workers --ch(a.buffer)--> b's workers --out(b.buffer)--> consumer

Every arrow is a memory channel. Each worker holds a clone of its input receive channel
and of its output send channel, so a stage's output ends exactly when its last worker has
finished, and the end of the source ripples down the line to the consumer. All of it runs
in one nursery inside the consumer's ``async with``: the first failure (with
``errors="raise"``) or the consumer leaving the block cancels every task.
"""

from __future__ import annotations

import functools
import inspect
import pickle
import typing
from collections.abc import AsyncIterable, Iterable
from contextlib import aclosing, asynccontextmanager, closing
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs
import outcome
import trio
import trio_parallel  # type: ignore[import-untyped]

from ._channels import background_nursery, close_quietly
from ._util import check_int, is_async_callable

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from contextlib import AbstractAsyncContextManager

__all__ = ["Stage", "open_pipeline"]

_RUN_IN: Final = (None, "thread", "process")
_ERRORS: Final = ("raise", "collect")

_Kind = Literal["async", "agen", "thread", "process"]


def _unwrap(fn: object) -> object:
    while isinstance(fn, functools.partial):
        fn = fn.func
    return fn


def _describe(fn: object) -> str:
    name = getattr(_unwrap(fn), "__qualname__", None)
    return name if isinstance(name, str) else repr(fn)


def _classify(name: str, fn: object, run_in: object) -> _Kind:
    """Check that *fn* suits *run_in* and say how to call it; raise ``TypeError`` if not."""
    if not callable(fn):
        raise TypeError(f"{name} must be callable, got {fn!r}")
    target = _unwrap(fn)
    is_agen = inspect.isasyncgenfunction(target) or (
        not inspect.isroutine(target)
        # an object whose __call__ is an async generator function
        and inspect.isasyncgenfunction(getattr(type(target), "__call__", None))  # noqa: B004
    )
    if run_in is None:
        if is_agen:
            return "agen"
        if is_async_callable(fn):
            return "async"
        raise TypeError(
            f"{name} must be an async function or an async generator function, got the "
            f"sync function {fn!r}; pass run_in='thread' (blocking I/O) or "
            "run_in='process' (CPU-bound work) to run it off the Trio thread"
        )
    if is_agen or is_async_callable(fn):
        raise TypeError(
            f"{name} must be a sync function with run_in={run_in!r}, got the async "
            f"function {fn!r}; drop run_in to run it on the Trio thread"
        )
    if inspect.isgeneratorfunction(_unwrap(fn)):
        raise TypeError(
            f"{name} must return its result with run_in={run_in!r}, got the generator "
            f"function {fn!r}; return a list, or use an async generator without run_in"
        )
    if run_in == "process":
        try:
            pickle.dumps(fn)
        except Exception as exc:
            raise TypeError(
                f"{name} must be picklable with run_in='process' (a module-level def), "
                f"got {fn!r}: {exc}"
            ) from None
        return "process"
    return "thread"


@typing.final
@attrs.define(eq=False, repr=False, frozen=True)
class Stage:
    """One station of the drink line: a function applied to every item, by n workers.

    A latte is made at stations: grind, pull, steam, pour the art. A `Stage` is one
    station. Its ``fn`` is an ``async def f(item) -> result`` that turns each item into
    exactly one result, or an async generator ``async def f(item): yield ...`` that turns
    each item into zero or more results (a filter, a splitter). A bare async function
    passed to `open_pipeline` is ``Stage(fn)``.

    ``workers=n`` puts n baristas at the station (Go's fan-out: n goroutines reading one
    channel); never more than n items are in the station at once. Their results leave in
    the order they finish unless ``ordered=True``, which keeps the order in which items
    reached the station: a finished item waits for the ones before it. The wait is
    bounded: each worker holds at most one finished result, so a slow item holds back at
    most ``workers + buffer`` others and memory never grows without limit. With one
    worker the order is always kept.

    ``buffer`` is the room on the counter after the station: the capacity of the memory
    channel to the next stage (0: hand over directly, Go's unbuffered channel).

    ``run_in="thread"`` or ``"process"`` runs a *sync* ``fn`` off the Trio thread:
    `trio.to_thread.run_sync` for blocking I/O, ``trio_parallel.run_sync`` for CPU-bound
    work in worker processes (``fn`` must then be picklable: a module-level ``def``).
    ``workers`` bounds the parallelism. This is how a trioshop program uses more than one
    core. ::

        async with trioshop.open_pipeline(
            orders,
            grind,
            trioshop.Stage(pull_shot, workers=3, ordered=True),
            trioshop.Stage(render_receipt, run_in="thread"),
        ) as drinks:
            async for drink in drinks:
                ...

    A `Stage` is a plain, immutable description: it starts nothing by itself and can be
    used in several pipelines at once. Cancellation of a running pipeline reaches ``fn`` at its
    checkpoints; a thread cannot be interrupted, so teardown waits for a running
    ``run_in="thread"`` call to return, while a ``run_in="process"`` worker is killed.

    Args:
        fn: the station's work, see above.
        workers: how many items the station works on at once (>= 1).
        ordered: keep input order through the station.
        buffer: capacity of the channel to the next stage (>= 0).
        run_in: ``None`` (``fn`` is async), ``"thread"`` or ``"process"`` (``fn`` is sync).

    Raises:
        TypeError: ``fn`` is not callable, or does not suit ``run_in`` (an async ``fn``
            with ``run_in`` set, a sync one without, an unpicklable one for
            ``"process"``), or ``workers``/``buffer``/``ordered`` have the wrong type.
        ValueError: ``workers < 1``, ``buffer < 0``, or an unknown ``run_in``.

    .. versionadded:: 0.1
    """

    fn: Callable[..., Any]
    workers: int = attrs.field(default=1, kw_only=True)
    ordered: bool = attrs.field(default=False, kw_only=True)
    buffer: int = attrs.field(default=0, kw_only=True)
    run_in: Literal["thread", "process"] | None = attrs.field(default=None, kw_only=True)
    _kind: _Kind = attrs.field(init=False, default="async")

    def __attrs_post_init__(self) -> None:
        check_int("workers", self.workers, minimum=1)
        check_int("buffer", self.buffer, minimum=0)
        if not isinstance(self.ordered, bool):
            raise TypeError(f"ordered must be a bool, got {self.ordered!r}")
        if self.run_in not in _RUN_IN:
            raise ValueError(f"run_in must be None, 'thread' or 'process', got {self.run_in!r}")
        # frozen: a Stage can be shared by pipelines, so it is checked once and never changes
        object.__setattr__(self, "_kind", _classify("fn", self.fn, self.run_in))

    def __repr__(self) -> str:
        parts = [f"<trioshop.Stage {_describe(self.fn)} workers={self.workers}"]
        if self.ordered:
            parts.append("ordered")
        if self.buffer:
            parts.append(f"buffer={self.buffer}")
        if self.run_in is not None:
            parts.append(f"run_in={self.run_in!r}")
        return " ".join(parts) + ">"


@attrs.frozen
class _Failed:
    """An item that failed in a stage (``errors="collect"``): it skips the later stages."""

    error: outcome.Error


class _DownstreamClosed(Exception):
    """The channel to the next stage was closed by its reader: stop quietly."""


@attrs.define(eq=False)
class _Order:
    """Turn-taking for an ordered stage: numbered on arrival, sent in number order."""

    lock: trio.Lock = attrs.field(factory=trio.Lock)
    arrived: int = 0
    turn: int = 0
    waiting: dict[int, trio.Event] = attrs.field(factory=dict)

    async def take(self, receive: trio.MemoryReceiveChannel[Any]) -> tuple[int, Any]:
        # One receiver at a time, so the numbers follow the channel's order.
        async with self.lock:
            item = await receive.receive()
            seq = self.arrived
            self.arrived += 1
            return seq, item

    async def wait_turn(self, seq: int) -> None:
        if self.turn == seq:
            return
        event = self.waiting[seq] = trio.Event()
        try:
            await event.wait()
        finally:
            self.waiting.pop(seq, None)

    def pass_turn(self) -> None:
        self.turn += 1
        event = self.waiting.pop(self.turn, None)
        if event is not None:
            event.set()


def _identity(value: Any) -> Any:
    return value


@attrs.define(eq=False)
class _StageRun:
    """One stage of one running pipeline: its workers and their shared state."""

    stage: Stage
    index: int
    collect: bool
    last: bool
    order: _Order | None = attrs.field(init=False, default=None)
    call: Callable[[Any], Any] = attrs.field(init=False)
    wrap: Callable[[Any], Any] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        stage = self.stage
        if stage.ordered and stage.workers > 1:
            self.order = _Order()
        self.wrap = outcome.Value if (self.collect and self.last) else _identity
        kind = stage._kind
        if kind == "thread":
            limiter = trio.CapacityLimiter(stage.workers)
            fn = stage.fn

            async def in_thread(item: Any) -> Any:
                return await trio.to_thread.run_sync(fn, item, limiter=limiter)

            self.call = in_thread
        elif kind == "process":
            limiter = trio.CapacityLimiter(stage.workers)
            fn = stage.fn

            async def in_process(item: Any) -> Any:
                return await trio_parallel.run_sync(fn, item, limiter=limiter, kill_on_cancel=True)

            self.call = in_process
        else:
            self.call = stage.fn

    def start(
        self,
        nursery: trio.Nursery,
        receive: trio.MemoryReceiveChannel[Any],
        send: trio.MemorySendChannel[Any],
    ) -> None:
        fast = self.order is None and not self.collect and self.stage._kind != "agen"
        worker = self._fast_worker if fast else self._worker
        name = _describe(self.stage.fn)
        with receive, send:
            for w in range(self.stage.workers):
                nursery.start_soon(
                    worker,
                    receive.clone(),
                    send.clone(),
                    name=f"trioshop pipeline stage {self.index} ({name}) worker {w}",
                )

    async def _fast_worker(
        self, receive: trio.MemoryReceiveChannel[Any], send: trio.MemorySendChannel[Any]
    ) -> None:
        # errors="raise", unordered, one result per item: the hand-written loop.
        call = self.call
        with receive, send:
            async for item in receive:
                result = await call(item)
                try:
                    await send.send(result)
                except trio.BrokenResourceError:
                    return

    async def _worker(
        self, receive: trio.MemoryReceiveChannel[Any], send: trio.MemorySendChannel[Any]
    ) -> None:
        order = self.order
        with receive, send:
            while True:
                try:
                    if order is None:
                        seq, item = 0, await receive.receive()
                    else:
                        seq, item = await order.take(receive)
                except trio.EndOfChannel:
                    return
                try:
                    await self._one(item, seq, send)
                except _DownstreamClosed:
                    return

    async def _one(self, item: Any, seq: int, send: trio.MemorySendChannel[Any]) -> None:
        order = self.order
        has_turn = order is None
        sent = False

        async def put(value: Any) -> None:
            nonlocal has_turn, sent
            sent = True
            if not has_turn:
                assert order is not None
                await order.wait_turn(seq)
                has_turn = True
            try:
                await send.send(value)
            except trio.BrokenResourceError:
                if order is not None:
                    order.pass_turn()
                raise _DownstreamClosed from None

        if self.collect and type(item) is _Failed:
            await put(item.error if self.last else item)
        else:
            try:
                if self.stage._kind == "agen":
                    async with aclosing(self.stage.fn(item)) as results:
                        async for result in results:
                            await put(self.wrap(result))
                else:
                    await put(self.wrap(await self.call(item)))
            except _DownstreamClosed:
                raise
            except Exception as exc:
                if not self.collect:
                    raise
                error = outcome.Error(exc)
                await put(error if self.last else _Failed(error))
        if order is not None:
            if not has_turn:
                await order.wait_turn(seq)
            order.pass_turn()
        if not sent and send.statistics().open_receive_channels == 0:
            # Nothing came out of this item (a filter), so no send told us that the next
            # stage has stopped reading: ask, or a filter would drain the whole source.
            raise _DownstreamClosed


async def _pump(
    source: object, send: trio.MemorySendChannel[Any], wrap: Callable[[Any], Any]
) -> None:
    """Feed the source's items into the first channel; close it when the source ends."""

    async def put(item: Any) -> None:
        try:
            await send.send(wrap(item))
        except trio.BrokenResourceError:
            # Only the send is asked: a source may raise BrokenResourceError itself (a
            # broken connection), and that is a failure, not the end of the items.
            raise _DownstreamClosed from None

    with send:
        try:
            if isinstance(source, trio.abc.ReceiveChannel):
                try:
                    async for item in source:
                        await put(item)
                finally:
                    await close_quietly(source)
            elif isinstance(source, AsyncIterable):
                iterator = aiter(source)
                if inspect.isasyncgen(iterator):
                    async with aclosing(iterator):
                        async for item in iterator:
                            await put(item)
                else:
                    async for item in iterator:
                        await put(item)
            else:
                assert isinstance(source, Iterable)
                sync_iterator = iter(source)
                if inspect.isgenerator(sync_iterator):
                    with closing(sync_iterator):
                        for item in sync_iterator:
                            await put(item)
                else:
                    for item in sync_iterator:
                        await put(item)
        except _DownstreamClosed:
            # The first stage (or the consumer) stopped reading: nothing more is wanted.
            return


def _as_stage(index: int, stage: object) -> Stage:
    if isinstance(stage, Stage):
        return stage
    if not callable(stage):
        raise TypeError(f"stages[{index}] must be a Stage or an async function, got {stage!r}")
    _classify(f"stages[{index}]", stage, None)
    return Stage(stage)


def open_pipeline(
    source: Iterable[Any] | AsyncIterable[Any] | trio.abc.ReceiveChannel[Any],
    *stages: Stage | Callable[[Any], Any],
    errors: Literal["raise", "collect"] = "raise",
) -> AbstractAsyncContextManager[trio.MemoryReceiveChannel[Any]]:
    """Run items through a line of stages; yield the receive channel of results.

    The drink line of a coffee shop: orders come in at one end, pass the grinder, the
    espresso machine, the steam wand and the latte-art station, and drinks come out at
    the other. Each station is a `Stage` whose workers are tasks in a nursery that lives
    inside your ``async with`` block, joined by memory channels (Go's pipeline of
    goroutines and channels, with the cleanup built in)::

        async with trioshop.open_pipeline(orders, grind, pull, steam, pour) as drinks:
            async for drink in drinks:
                serve(drink)

    ``source`` is an iterable, an async iterable, or a receive channel (which the
    pipeline takes over and closes when done). ``stages`` are `Stage` objects or bare
    async functions (``Stage(fn)``). The results channel ends once the source is
    exhausted and every stage has drained. With no stages, the results are the source's
    items.

    Errors: with ``errors="raise"`` the first failure of a stage (or of the source)
    cancels every stage and the source, and the exception propagates out of the
    ``async with`` as Trio's nursery propagates it, in an `ExceptionGroup` (catch it
    with ``except*``). With ``errors="collect"`` every result is an `outcome.Value` or
    an `outcome.Error`: an item whose stage raised an `Exception` comes out as exactly
    one `outcome.Error` and skips the stages after the one that failed; nothing is
    dropped silently. A failing source still raises (its items cannot be counted), and
    `trio.Cancelled` and other `BaseException`\\ s are never collected.

    Leaving the block early (``break``, an exception, cancellation) cancels every stage
    and the source: no task is left, and the block's own exception leaves unwrapped (if a
    stage also fails while shutting down, both come out in one `ExceptionGroup`). Closing
    the results channel early makes the stages end by themselves. An already-cancelled
    caller gets `trio.Cancelled` on entry, leaving the block is a checkpoint, and so is
    every receive from the results channel.

    Args:
        source: where the items come from.
        *stages: the stations, in order.
        errors: ``"raise"`` or ``"collect"``.

    Raises:
        TypeError: ``source`` is not iterable, or a stage is not a `Stage` or an async
            function (a sync function needs ``Stage(fn, run_in="thread")``).
        ValueError: an unknown ``errors``.
        ExceptionGroup: with ``errors="raise"``, a stage or the source failed.

    .. versionadded:: 0.1
    """
    if not isinstance(source, trio.abc.ReceiveChannel | AsyncIterable | Iterable):
        raise TypeError(
            f"source must be an iterable, an async iterable or a receive channel, got {source!r}"
        )
    if errors not in _ERRORS:
        raise ValueError(f"errors must be 'raise' or 'collect', got {errors!r}")
    checked = tuple(_as_stage(i, stage) for i, stage in enumerate(stages))
    return _open_pipeline(source, checked, collect=errors == "collect")


@asynccontextmanager
async def _open_pipeline(
    source: object, stages: tuple[Stage, ...], *, collect: bool
) -> AsyncIterator[trio.MemoryReceiveChannel[Any]]:
    try:
        await trio.lowlevel.checkpoint_if_cancelled()
    except trio.Cancelled:
        # The source was handed over: a channel is ours to close even so.
        if isinstance(source, trio.abc.ReceiveChannel):
            await close_quietly(source)
        raise
    async with background_nursery() as nursery:
        send, receive = trio.open_memory_channel[Any](0)
        wrap = outcome.Value if (collect and not stages) else _identity
        nursery.start_soon(_pump, source, send, wrap, name="trioshop pipeline source")
        for index, stage in enumerate(stages):
            out_send, out_receive = trio.open_memory_channel[Any](stage.buffer)
            run = _StageRun(stage, index, collect, index == len(stages) - 1)
            run.start(nursery, receive, out_send)
            receive = out_receive
        with receive:
            yield receive
