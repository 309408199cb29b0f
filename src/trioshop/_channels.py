"""Fan-in and fan-out helpers: `merge` several channels into one, `gather` several calls.

Both run their tasks in a nursery that lives inside the caller's ``async with`` (or the
``await``), so nothing they start can outlive the call.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import trio

from ._util import check_async_callable

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from contextlib import AbstractAsyncContextManager

__all__ = ["background_nursery", "close_quietly", "gather", "merge"]

T = TypeVar("T")


@asynccontextmanager
async def background_nursery() -> AsyncIterator[trio.Nursery]:
    """A nursery for background tasks that serve the ``async with`` body.

    When the body ends, however it ends, the background tasks are cancelled. An exception
    raised by the body itself (a ``break`` that became an error, a cancellation from an
    enclosing scope) leaves unwrapped, exactly as if there were no nursery; failures of the
    background tasks leave as Trio's nursery raises them (an `ExceptionGroup`). When both
    the body and a task failed, both are reported in one group: nothing is lost. A
    cancellation from an enclosing scope that arrives while the tasks shut down leaves as
    one plain `trio.Cancelled`.
    """
    body_exc: BaseException | None = None
    to_raise: BaseException | None = None
    try:
        async with trio.open_nursery() as nursery:
            try:
                yield nursery
            except BaseException as exc:
                body_exc = exc
            nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        _, failures = group.split(trio.Cancelled)
        if body_exc is None:
            if failures is None:
                # Nothing but the tasks' Cancelled, after the body had ended: an enclosing
                # scope was cancelled during the shutdown. It leaves as one plain Cancelled.
                await trio.lowlevel.checkpoint_if_cancelled()
            raise
        if failures is None:
            to_raise = body_exc
        elif isinstance(body_exc, trio.Cancelled):
            # The body was cancelled *because* a task failed (or is being torn down
            # anyway): the task's failure is the news.
            raise
        else:
            to_raise = BaseExceptionGroup(
                "the body of the async with block and a background task both failed",
                [body_exc, *failures.exceptions],
            )
    else:
        to_raise = body_exc
    if to_raise is not None:
        try:
            raise to_raise
        finally:
            del to_raise, body_exc


async def _forward(source: trio.abc.ReceiveChannel[T], send: trio.MemorySendChannel[T]) -> None:
    with send:
        try:
            async for item in source:
                try:
                    await send.send(item)
                except trio.BrokenResourceError:
                    return  # the merged channel was closed by its reader
        finally:
            await close_quietly(source)


async def close_quietly(channel: trio.abc.AsyncResource) -> None:
    """Close *channel* at once, even inside a cancelled scope."""
    if isinstance(channel, trio.MemoryReceiveChannel | trio.MemorySendChannel):
        channel.close()
        return
    with trio.CancelScope(shield=True):
        await channel.aclose()


def merge(
    *receive_channels: trio.abc.ReceiveChannel[T],
) -> AbstractAsyncContextManager[trio.MemoryReceiveChannel[T]]:
    """Fan in: one receive channel carrying every item of every input channel.

    Espresso shots come off the machine on one counter, steamed milk on another; the
    barista who finishes the drinks wants one counter. ``merge`` takes the input channels
    and yields a single channel with every item of every input, in the order the items
    arrive, that ends once *every* input has ended (Go's fan-in ``merge`` with its
    ``WaitGroup``, without the goroutine that could leak). ::

        async with trioshop.merge(shots_rx, milk_rx) as counter:
            async for part in counter:
                ...

    ``merge`` takes ownership of the inputs: it closes each one when it ends or when the
    ``async with`` block exits, so their producers see `trio.BrokenResourceError` instead
    of blocking forever. Leaving the block early (``break``, an exception, cancellation)
    cancels the forwarding tasks; items still in flight are dropped with the channel, and
    the block's own exception leaves unwrapped. An already-cancelled caller gets
    `trio.Cancelled` on entry (the inputs are closed even so); leaving the block is a
    checkpoint.

    Args:
        *receive_channels: the channels to fan in; zero channels give a channel that ends
            at once.

    Raises:
        TypeError: an argument is not a `trio.abc.ReceiveChannel`, or the same channel is
            passed twice.

    .. versionadded:: 0.1
    """
    seen: set[int] = set()
    for i, channel in enumerate(receive_channels):
        if not isinstance(channel, trio.abc.ReceiveChannel):
            raise TypeError(
                f"receive_channels[{i}] must be a trio.abc.ReceiveChannel, got {channel!r}"
            )
        if id(channel) in seen:
            raise TypeError(f"receive_channels[{i}] is passed twice, got {channel!r}")
        seen.add(id(channel))
    return _merge(receive_channels)


@asynccontextmanager
async def _merge(
    channels: tuple[trio.abc.ReceiveChannel[T], ...],
) -> AsyncIterator[trio.MemoryReceiveChannel[T]]:
    send, receive = trio.open_memory_channel[T](0)
    try:
        await trio.lowlevel.checkpoint_if_cancelled()
        async with background_nursery() as nursery:
            with send:
                for channel in channels:
                    nursery.start_soon(_forward, channel, send.clone())
            with receive:
                yield receive
    finally:
        # Inputs whose forwarder never got to run are still ours to close.
        for channel in channels:
            await close_quietly(channel)


async def gather(*async_fns: Callable[[], Awaitable[T]]) -> list[T]:
    """Run every function at once; return their results in argument order.

    One espresso and one jug of steamed milk make a latte: start both, wait for both.
    ``gather`` calls each ``async_fn()`` in its own task of a fresh nursery and returns
    the list of results in the order the functions were given, however the calls
    finished. It is Go's ``errgroup.Group`` with ``Wait`` built in: the first failure
    cancels the calls still running and propagates as Trio propagates it, in an
    `ExceptionGroup` (catch it with ``except*``); results of calls that did finish are
    discarded. ::

        shot, milk = await trioshop.gather(pull_shot, steam_milk)

    Pass arguments with ``functools.partial``. ``gather`` is a checkpoint, also with no
    functions. Cancelling it cancels every call and raises `trio.Cancelled`.

    Args:
        *async_fns: async functions taking no arguments.

    Returns:
        ``[await async_fns[0](), await async_fns[1](), ...]``, computed concurrently.

    Raises:
        TypeError: an argument is not an async function.
        ExceptionGroup: one or more calls raised; it holds their exceptions.

    .. versionadded:: 0.1
    """
    for i, fn in enumerate(async_fns):
        check_async_callable(f"async_fns[{i}]", fn)
    await trio.lowlevel.checkpoint_if_cancelled()
    if not async_fns:
        await trio.lowlevel.cancel_shielded_checkpoint()
        return []
    results: list[Any] = [None] * len(async_fns)

    async def run_one(index: int, fn: Callable[[], Awaitable[T]]) -> None:
        results[index] = await fn()

    try:
        async with trio.open_nursery() as nursery:
            for index, fn in enumerate(async_fns):
                nursery.start_soon(run_one, index, fn)
    except BaseExceptionGroup as group:
        if group.split(trio.Cancelled)[1] is None:
            # Nothing but the calls' Cancelled: an enclosing scope is cancelling us.
            # Raise it as one plain Cancelled, as documented.
            await trio.lowlevel.checkpoint_if_cancelled()
        raise
    return results
