"""`RWLock`: many readers or one writer, with Go's writer preference and Trio's strictness."""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any, final

import attrs
import trio

if TYPE_CHECKING:
    import contextlib
    from collections.abc import Coroutine
    from types import TracebackType

    from trio.lowlevel import Task

_checkpoint_if_cancelled = trio.lowlevel.checkpoint_if_cancelled
_cancel_shielded_checkpoint = trio.lowlevel.cancel_shielded_checkpoint
_current_task = trio.lowlevel.current_task
_reschedule = trio.lowlevel.reschedule
_wait_task_rescheduled = trio.lowlevel.wait_task_rescheduled
_ABORT_SUCCEEDED = trio.lowlevel.Abort.SUCCEEDED
_ki_protected = trio.lowlevel.enable_ki_protection


@final
@attrs.frozen
class RWLockStatistics:
    """A snapshot of an `RWLock`, returned by `RWLock.statistics`.

    .. versionadded:: 0.1
    """

    readers: int
    """The number of tasks holding the lock for reading."""
    writer: Task | None
    """The task holding the lock for writing, or ``None``."""
    readers_waiting: int
    """Tasks blocked in `RWLock.acquire_read`."""
    writers_waiting: int
    """Tasks blocked in `RWLock.acquire_write`."""


@final
@attrs.define(eq=False, repr=False)
class RWLock:
    """A readers-writer lock: many readers at once, or one writer alone.

    The menu board of a coffee shop is read all day: ten baristas can glance at it at
    the same time. When the manager comes to change a price, though, nobody may read a
    half-written board. The manager waits for the baristas already reading to look
    away; baristas who arrive while the manager waits are held back, so a busy shop
    never locks the manager out. When the manager is done, every barista who was
    waiting reads the new board together, before the next manager update.

    These are the semantics of Go's ``sync.RWMutex`` (writer preference), with Trio's
    strictness: a task that acquires again what it already holds (reading or writing,
    including a read-to-write upgrade, which would deadlock in Go) or releases what it
    does not hold gets a `RuntimeError`. The lock is bound to tasks: the task that
    acquires must be the task that releases.

    Example::

        menu_lock = trioshop.RWLock()

        async def price_of(drink: str) -> float:
            async with menu_lock.read():
                return menu[drink]

        async def update(drink: str, price: float) -> None:
            async with menu_lock.write():
                menu[drink] = price

    Every ``acquire_*`` call is a checkpoint; a cancelled waiter leaves no trace, and a
    cancelled waiting writer lets in at once the readers it was holding back. As with
    `trio.Lock`, leaving an ``async with`` block releases without a checkpoint.

    .. versionadded:: 0.1
    """

    _readers: set[Task] = attrs.field(factory=set, init=False)
    _writer: Task | None = attrs.field(default=None, init=False)
    _read_waiters: OrderedDict[Task, None] = attrs.field(factory=OrderedDict, init=False)
    _write_waiters: OrderedDict[Task, None] = attrs.field(factory=OrderedDict, init=False)
    _read_cm: _ReadLocked = attrs.field(init=False)
    _write_cm: _WriteLocked = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._read_cm = _ReadLocked(self)
        self._write_cm = _WriteLocked(self)

    def __repr__(self) -> str:
        if self._writer is not None:
            state = "write-locked"
        elif self._readers:
            state = f"read-locked by {len(self._readers)}"
        else:
            state = "unlocked"
        return (
            f"<trioshop.RWLock {state}, {len(self._read_waiters)} readers and "
            f"{len(self._write_waiters)} writers waiting>"
        )

    def statistics(self) -> RWLockStatistics:
        """Return an `RWLockStatistics` snapshot. Not a checkpoint."""
        return RWLockStatistics(
            readers=len(self._readers),
            writer=self._writer,
            readers_waiting=len(self._read_waiters),
            writers_waiting=len(self._write_waiters),
        )

    def _check_not_held(self, task: Task) -> None:
        if task is self._writer:
            raise RuntimeError("this task already holds the RWLock for writing")
        if task in self._readers:
            raise RuntimeError(
                "this task already holds the RWLock for reading (an RWLock is not "
                "reentrant and cannot be upgraded: release the read lock first)"
            )

    # -- readers -------------------------------------------------------------------

    @_ki_protected
    def acquire_read_nowait(self) -> None:
        """Take the lock for reading now, or raise `trio.WouldBlock`.

        Fails if a writer holds the lock or is waiting for it. Not a checkpoint.

        Raises:
            trio.WouldBlock: a writer holds the lock or waits for it.
            RuntimeError: this task already holds the lock.
        """
        task = _current_task()
        if task in self._readers or task is self._writer:
            self._check_not_held(task)
        if self._writer is not None or self._write_waiters:
            raise trio.WouldBlock
        self._readers.add(task)

    @_ki_protected
    async def acquire_read(self) -> None:
        """Take the lock for reading, waiting while a writer holds it or waits for it.

        A checkpoint on every path; an already-cancelled caller raises `trio.Cancelled`
        even when the lock is free. A cancelled waiter leaves no trace.

        Raises:
            RuntimeError: this task already holds the lock.
        """
        task = _current_task()
        if task in self._readers or task is self._writer:
            self._check_not_held(task)
        await _checkpoint_if_cancelled()
        if self._writer is None and not self._write_waiters:
            self._readers.add(task)
            await _cancel_shielded_checkpoint()
            return
        self._read_waiters[task] = None

        def abort_fn(_: object) -> trio.lowlevel.Abort:
            # A reader leaving the line changes nothing for anyone else.
            del self._read_waiters[task]
            return _ABORT_SUCCEEDED

        await _wait_task_rescheduled(abort_fn)

    @_ki_protected
    def release_read(self) -> None:
        """Give back a read hold; the last reader out lets the next writer in.

        Not a checkpoint.

        Raises:
            RuntimeError: this task does not hold the lock for reading.
        """
        task = _current_task()
        try:
            self._readers.remove(task)
        except KeyError:
            raise RuntimeError("this task does not hold the RWLock for reading") from None
        if not self._readers and self._write_waiters:
            self._wake()

    def read(self) -> contextlib.AbstractAsyncContextManager[None]:
        """An async context manager that holds the lock for reading::

            async with lock.read():
                ...

        Entering is `acquire_read` (a checkpoint); leaving is `release_read` (not one).
        """
        return self._read_cm

    # -- writers -------------------------------------------------------------------

    @_ki_protected
    def acquire_write_nowait(self) -> None:
        """Take the lock for writing now, or raise `trio.WouldBlock`.

        Fails if anyone holds the lock or another writer is waiting. Not a checkpoint.

        Raises:
            trio.WouldBlock: the lock is held, or another writer is waiting.
            RuntimeError: this task already holds the lock.
        """
        task = _current_task()
        if task in self._readers or task is self._writer:
            self._check_not_held(task)
        if self._writer is not None or self._readers or self._write_waiters:
            raise trio.WouldBlock
        self._writer = task

    @_ki_protected
    async def acquire_write(self) -> None:
        """Take the lock for writing, waiting for readers and earlier writers.

        While it waits, new readers are held back. A checkpoint on every path; an
        already-cancelled caller raises `trio.Cancelled` even when the lock is free. A
        cancelled waiter leaves no trace: if it was the last writer waiting, the readers
        it was holding back get in at once.

        Raises:
            RuntimeError: this task already holds the lock, for reading or writing.
        """
        task = _current_task()
        if task in self._readers or task is self._writer:
            self._check_not_held(task)
        await _checkpoint_if_cancelled()
        if self._writer is None and not self._readers and not self._write_waiters:
            self._writer = task
            await _cancel_shielded_checkpoint()
            return
        self._write_waiters[task] = None

        def abort_fn(_: object) -> trio.lowlevel.Abort:
            del self._write_waiters[task]
            self._wake()
            return _ABORT_SUCCEEDED

        await _wait_task_rescheduled(abort_fn)

    @_ki_protected
    def release_write(self) -> None:
        """Give back the write hold. Not a checkpoint.

        Every reader waiting at this moment gets the lock, together, before the next
        writer; if no reader waits, the next writer does.

        Raises:
            RuntimeError: this task does not hold the lock for writing.
        """
        if self._writer is not _current_task():
            raise RuntimeError("this task does not hold the RWLock for writing")
        self._writer = None
        if self._read_waiters:
            self._wake_readers()
        elif self._write_waiters:
            self._wake()

    def write(self) -> contextlib.AbstractAsyncContextManager[None]:
        """An async context manager that holds the lock for writing::

            async with lock.write():
                ...

        Entering is `acquire_write` (a checkpoint); leaving is `release_write` (not one).
        """
        return self._write_cm

    # -- hand-off --------------------------------------------------------------------

    def _wake_readers(self) -> None:
        readers = self._readers
        for task in self._read_waiters:
            readers.add(task)
            _reschedule(task)
        self._read_waiters.clear()

    def _wake(self) -> None:
        # Let in whoever may enter now that the lock is not write-held: the next writer
        # if nobody reads, or (with no writer left waiting) every waiting reader.
        if self._writer is not None:
            return
        if self._write_waiters:
            if not self._readers:
                task, _ = self._write_waiters.popitem(last=False)
                self._writer = task
                _reschedule(task)
        elif self._read_waiters:
            self._wake_readers()


@final
class _ReadLocked:
    """What `RWLock.read` returns: one per lock, reused by every ``async with``."""

    __slots__ = ("_lock",)

    def __init__(self, lock: RWLock) -> None:
        self._lock = lock

    def __aenter__(self) -> Coroutine[Any, Any, None]:
        return self._lock.acquire_read()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._lock.release_read()


@final
class _WriteLocked:
    """What `RWLock.write` returns: one per lock, reused by every ``async with``."""

    __slots__ = ("_lock",)

    def __init__(self, lock: RWLock) -> None:
        self._lock = lock

    def __aenter__(self) -> Coroutine[Any, Any, None]:
        return self._lock.acquire_write()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._lock.release_write()
