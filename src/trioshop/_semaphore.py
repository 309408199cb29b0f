"""`WeightedSemaphore`: a FIFO, cancel-safe semaphore whose callers take several units."""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any, NoReturn, final

import attrs
import trio

from ._util import check_int

if TYPE_CHECKING:
    import contextlib
    from collections.abc import Coroutine
    from types import TracebackType

_checkpoint_if_cancelled = trio.lowlevel.checkpoint_if_cancelled
_cancel_shielded_checkpoint = trio.lowlevel.cancel_shielded_checkpoint
_current_task = trio.lowlevel.current_task
_reschedule = trio.lowlevel.reschedule
_wait_task_rescheduled = trio.lowlevel.wait_task_rescheduled
_ABORT_SUCCEEDED = trio.lowlevel.Abort.SUCCEEDED
_ki_protected = trio.lowlevel.enable_ki_protection


@final
@attrs.frozen
class WeightedSemaphoreStatistics:
    """A snapshot of a `WeightedSemaphore`, returned by `WeightedSemaphore.statistics`.

    .. versionadded:: 0.1
    """

    capacity: int
    """The total number of units: the size of the counter."""
    in_use: int
    """Units currently held (acquired and not yet released)."""
    waiting: int
    """Tasks queued in `WeightedSemaphore.acquire`, in FIFO order behind the first."""
    units_waiting: int
    """The units those queued tasks asked for, added up."""


@final
@attrs.define(eq=False, repr=False)
class WeightedSemaphore:
    """A semaphore whose callers take and give back several units at once.

    The counter of a coffee shop has room for ``capacity`` cups. A single espresso
    takes one unit of it, a family order of six lattes takes six. An order waits until
    its whole size fits, and orders are served strictly in arrival order: a large order
    at the head of the line holds back the small ones behind it, even when one of them
    would fit, so a stream of single espressos can never starve a big order. When a
    barista clears some cups, everyone at the head of the line who now fits goes in
    together.

    Units are taken all at once, never one by one. A semaphore that takes its permits
    one at a time can deadlock two large orders against each other (each holding half
    the counter, each waiting for the other half); this one cannot.

    This is Go's ``golang.org/x/sync/semaphore.Weighted`` without its sharp edges: an
    impossible request (``n > capacity``) fails at once instead of blocking forever,
    releasing more than is in use raises and leaves the semaphore usable, and a
    cancelled waiter at the head of the line lets in those behind it that now fit.

    Example::

        counter = trioshop.WeightedSemaphore(8)

        async def serve(cups: int) -> None:
            async with counter.hold(cups):
                await make_drinks(cups)

    Args:
        capacity: The number of units, ``>= 1``.

    Raises:
        TypeError: ``capacity`` is not an ``int``.
        ValueError: ``capacity`` is less than 1.

    .. versionadded:: 0.1
    """

    _capacity: int = attrs.field(alias="capacity")
    _in_use: int = attrs.field(default=0, init=False)
    # task -> units it waits for; insertion order is the FIFO line.
    _waiters: OrderedDict[trio.lowlevel.Task, int] = attrs.field(factory=OrderedDict, init=False)
    _hold_one: _Hold = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        check_int("capacity", self._capacity, minimum=1)
        self._hold_one = _Hold(self, 1)

    def __repr__(self) -> str:
        return (
            f"<trioshop.WeightedSemaphore {self._in_use}/{self._capacity} in use, "
            f"{len(self._waiters)} waiting>"
        )

    @property
    def capacity(self) -> int:
        """The total number of units (read-only)."""
        return self._capacity

    @property
    def in_use(self) -> int:
        """The number of units currently held."""
        return self._in_use

    def _bad_n(self, n: object) -> NoReturn:
        check_int("n", n, minimum=1)
        raise ValueError(f"n must be <= capacity ({self._capacity}), got {n!r}")

    def statistics(self) -> WeightedSemaphoreStatistics:
        """Return a `WeightedSemaphoreStatistics` snapshot. Not a checkpoint."""
        return WeightedSemaphoreStatistics(
            capacity=self._capacity,
            in_use=self._in_use,
            waiting=len(self._waiters),
            units_waiting=sum(self._waiters.values()),
        )

    @_ki_protected
    def acquire_nowait(self, n: int = 1) -> None:
        """Take ``n`` units now, or raise `trio.WouldBlock`.

        Fails whenever anyone is queued, even if ``n`` units are free: jumping the line
        would starve the order at its head. Not a checkpoint; ignores cancellation.

        Raises:
            trio.WouldBlock: ``n`` units are not free, or other tasks are waiting.
            TypeError: ``n`` is not an ``int``.
            ValueError: ``n < 1`` or ``n > capacity``.
        """
        if type(n) is not int or not 1 <= n <= self._capacity:
            self._bad_n(n)
        if self._waiters or self._in_use + n > self._capacity:
            raise trio.WouldBlock
        self._in_use += n

    @_ki_protected
    async def acquire(self, n: int = 1) -> None:
        """Take ``n`` units, waiting in FIFO order until they are free.

        A checkpoint on every path. An already-cancelled caller raises
        `trio.Cancelled` even when the units are free. A waiter that is cancelled leaves
        the line without a trace and takes nothing; if it was at the head, the tasks
        behind it that now fit are let in at once.

        Raises:
            TypeError: ``n`` is not an ``int``.
            ValueError: ``n < 1`` or ``n > capacity`` (it could never be served).
        """
        if type(n) is not int or not 1 <= n <= self._capacity:
            self._bad_n(n)
        await _checkpoint_if_cancelled()
        if not self._waiters and self._in_use + n <= self._capacity:
            self._in_use += n
            await _cancel_shielded_checkpoint()
            return
        task = _current_task()
        self._waiters[task] = n

        def abort_fn(_: object) -> trio.lowlevel.Abort:
            del self._waiters[task]
            self._wake()
            return _ABORT_SUCCEEDED

        await _wait_task_rescheduled(abort_fn)

    @_ki_protected
    def release(self, n: int = 1) -> None:
        """Give back ``n`` units and wake, in order, every waiter at the head that fits.

        Any task may release. Not a checkpoint.

        Raises:
            RuntimeError: ``n`` is more than is in use; nothing is released.
            TypeError: ``n`` is not an ``int``.
            ValueError: ``n < 1``.
        """
        if type(n) is not int or n < 1:
            check_int("n", n, minimum=1)
        if n > self._in_use:
            raise RuntimeError(
                f"cannot release {n} unit(s): only {self._in_use} in use on {self!r}"
            )
        self._in_use -= n
        if self._waiters:
            self._wake()

    def _wake(self) -> None:
        # Hand units to waiters from the head while they fit; stop at the first that
        # does not (strict FIFO). The units are taken here, so a woken task owns them
        # even if it is cancelled before it runs again.
        waiters = self._waiters
        while waiters:
            task, n = next(iter(waiters.items()))
            if self._in_use + n > self._capacity:
                break
            waiters.popitem(last=False)
            self._in_use += n
            _reschedule(task)

    def hold(self, n: int = 1) -> contextlib.AbstractAsyncContextManager[None]:
        """An async context manager: ``acquire(n)`` on entry, ``release(n)`` on exit.

        Entering is a checkpoint (see `acquire`); leaving releases without one, whatever
        happened in the block. ``n`` is checked when ``hold`` is called::

            async with counter.hold(3):
                ...

        Raises:
            TypeError: ``n`` is not an ``int``.
            ValueError: ``n < 1`` or ``n > capacity``.
        """
        if n == 1 and type(n) is int:
            return self._hold_one
        if type(n) is not int or not 1 <= n <= self._capacity:
            self._bad_n(n)
        return _Hold(self, n)


@final
class _Hold:
    """What `WeightedSemaphore.hold` returns; reusable and stateless between uses."""

    __slots__ = ("_n", "_sem")

    def __init__(self, sem: WeightedSemaphore, n: int) -> None:
        self._sem = sem
        self._n = n

    def __repr__(self) -> str:
        return f"<hold({self._n}) of {self._sem!r}>"

    def __aenter__(self) -> Coroutine[Any, Any, None]:
        return self._sem.acquire(self._n)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._sem.release(self._n)
