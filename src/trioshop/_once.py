"""`Once`: run an async function once, share its value, retry a run that failed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar, TypeVarTuple, Unpack, final

import attrs
import trio

from ._util import check_async_callable

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from trio import Nursery
    from trio.lowlevel import Task

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

_checkpoint_if_cancelled = trio.lowlevel.checkpoint_if_cancelled
_cancel_shielded_checkpoint = trio.lowlevel.cancel_shielded_checkpoint
_current_task = trio.lowlevel.current_task


@final
@attrs.frozen
class OnceStatistics:
    """A snapshot of a `Once`, returned by `Once.statistics`.

    .. versionadded:: 0.1
    """

    done: bool
    """True once a run has succeeded; its value is kept and ``fn`` never runs again."""
    running: bool
    """True while a run is in progress."""
    waiting: int
    """Tasks waiting for the run in progress."""
    runs: int
    """How many times ``fn`` has been started, the current run included."""
    failures: int
    """How many runs raised an exception (runs abandoned by cancellation excluded)."""


@attrs.define(eq=False)
class _Run:
    """One call of ``fn``: the task running it and, once over, how it ended."""

    task: Task
    # The nurseries the task had open when the run began: a task living in any nursery
    # the run opened after that can only finish after the run, so it must not wait.
    outer_nurseries: tuple[Nursery, ...]
    finished: trio.Event = attrs.field(factory=trio.Event)
    succeeded: bool = False
    error: Exception | None = None


def _inside_run(run: _Run, task: Task) -> bool:
    """True if *task* is the task running *run*, or lives in a nursery the run opened.

    Such a task waiting for the run would deadlock: the run cannot end before the
    nursery closes, and the nursery cannot close before the task ends.
    """
    while task is not run.task:
        nursery = task.parent_nursery
        if nursery is None:
            return False
        if nursery.parent_task is run.task:
            return not any(nursery is outer for outer in run.outer_nurseries)
        task = nursery.parent_task
    return True


@final
@attrs.define(eq=False, repr=False, init=False)
class Once(Generic[T]):
    """Run an async function at most once successfully, and share its value.

    The recipe book of a coffee shop is fetched from head office the first time a
    barista needs it. If three baristas reach for it at the same moment, one of them
    makes the call and the other two wait for that same book: head office is called
    once, and everyone gets the same object. If the call fails (head office is down),
    the barista who made it and everyone waiting for it get the error, and the next
    barista who needs the book calls again: a passing failure never poisons the book
    forever. If the barista making the call is called away (cancelled), the others are
    not: one of them makes the call again.

    This is Go's ``sync.Once`` (and ``sync.OnceValue``) made safe for async code: Go
    keeps a panicking ``Do`` as done forever and blocks every other caller while ``f``
    runs with no way to give up; here a failed run is retried, and a waiting caller can
    be cancelled without affecting the run.

    Example::

        recipes = trioshop.Once(fetch_recipe_book, "https://head-office/recipes")

        async def make(drink: str) -> None:
            book = await recipes()      # fetched on first use, then shared
            ...

    ``fn`` is an async function and ``args`` its positional arguments: ``await
    fn(*args)`` produces the value.

    Raises:
        TypeError: ``fn`` is not an async function.

    .. versionadded:: 0.1
    """

    _fn: Callable[..., Awaitable[T]]
    _args: tuple[Any, ...]
    _done: bool = attrs.field(default=False, init=False)
    _value: T | None = attrs.field(default=None, init=False)
    _run: _Run | None = attrs.field(default=None, init=False)
    _runs: int = attrs.field(default=0, init=False)
    _failures: int = attrs.field(default=0, init=False)

    def __init__(self, fn: Callable[[Unpack[Ts]], Awaitable[T]], *args: *Ts) -> None:
        check_async_callable("fn", fn)
        self.__attrs_init__(fn, args)

    def __repr__(self) -> str:
        name = getattr(self._fn, "__qualname__", None) or repr(self._fn)
        if self._done:
            state = "done"
        elif self._run is not None:
            state = f"running, {self._run.finished.statistics().tasks_waiting} waiting"
        else:
            state = "not done"
        return f"<trioshop.Once {name} {state}>"

    @property
    def done(self) -> bool:
        """True once a run has succeeded (``fn`` will not run again)."""
        return self._done

    def statistics(self) -> OnceStatistics:
        """Return a `OnceStatistics` snapshot. Not a checkpoint."""
        run = self._run
        return OnceStatistics(
            done=self._done,
            running=run is not None,
            waiting=0 if run is None else run.finished.statistics().tasks_waiting,
            runs=self._runs,
            failures=self._failures,
        )

    async def __call__(self) -> T:
        """Return ``fn``'s value, running ``fn(*args)`` if no run has succeeded yet.

        If a run is in progress, wait for it and share its outcome: its value, or the
        exception it raised (the same exception object for every caller). If it was
        abandoned because the task running it was cancelled, one of the waiters runs
        ``fn`` again.

        A checkpoint on every path; an already-cancelled caller raises `trio.Cancelled`
        even when the value is ready. Cancelling a waiting caller only stops that caller;
        cancelling the caller running ``fn`` cancels ``fn`` and hands the run on.

        Returns:
            The value of the one successful run: the same object for every caller.

        Raises:
            Exception: whatever ``fn`` raised, in this call or in the run this call
                waited for.
            RuntimeError: ``fn`` awaited its own `Once`, directly or from a task in a
                nursery it opened (it would wait for itself forever).
        """
        await _checkpoint_if_cancelled()
        while True:
            if self._done:
                await _cancel_shielded_checkpoint()
                return self._value  # type: ignore[return-value]
            run = self._run
            if run is None:
                return await self._run_fn()
            if _inside_run(run, _current_task()):
                raise RuntimeError(f"{self!r}: fn awaited its own Once and would wait forever")
            await run.finished.wait()
            if run.succeeded:
                return self._value  # type: ignore[return-value]
            if run.error is not None:
                raise run.error
            # The run was abandoned (its task was cancelled): try again.

    async def _run_fn(self) -> T:
        task = _current_task()
        run = self._run = _Run(task, tuple(task.child_nurseries))
        self._runs += 1
        try:
            value = await self._fn(*self._args)
        except Exception as exc:
            self._failures += 1
            run.error = exc
            self._run = None
            run.finished.set()
            await _cancel_shielded_checkpoint()
            raise
        except BaseException:
            # Cancelled (or KeyboardInterrupt): nobody else is to blame; a waiter retries.
            self._run = None
            run.finished.set()
            raise
        self._value = value
        self._done = True
        run.succeeded = True
        self._run = None
        run.finished.set()
        await _cancel_shielded_checkpoint()
        return value
