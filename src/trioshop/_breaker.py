"""The "out of order" sign: a circuit breaker on Trio's clock (sony/gobreaker).

Nothing is held across the guarded call: admission and bookkeeping are synchronous
steps before and after it, so concurrent calls run concurrently. Every state change
starts a new *generation*; a call remembers the generation it was admitted in and its
result is ignored if the breaker has changed state since.
"""

from __future__ import annotations

import enum
import inspect
import math
import typing
from typing import TYPE_CHECKING, Literal, TypeVar, TypeVarTuple, Unpack

import attrs
import trio

from ._errors import CircuitOpen
from ._util import check_async_callable, check_float, check_int

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from types import TracebackType

R = TypeVar("R")
Ts = TypeVarTuple("Ts")


class BreakerState(enum.Enum):
    """The three states of a :class:`CircuitBreaker`.

    .. versionadded:: 0.1
    """

    CLOSED = "closed"
    """Working normally: calls go through and consecutive failures are counted."""
    OPEN = "open"
    """Broken: every call is turned away with :exc:`~trioshop.CircuitOpen`."""
    HALF_OPEN = "half-open"
    """On trial: a few calls go through to find out whether the machine works again."""


_CLOSED = BreakerState.CLOSED


@typing.final
@attrs.frozen
class CircuitBreakerStatistics:
    """A snapshot of a :class:`CircuitBreaker`, from :meth:`CircuitBreaker.statistics`.

    .. versionadded:: 0.1
    """

    state: BreakerState
    """The current state (an open breaker whose timeout has passed shows as half-open)."""
    consecutive_failures: int
    """Failures in a row in the current state (reset by a success)."""
    consecutive_successes: int
    """Successes in a row in the current state (what closes a half-open breaker)."""
    in_flight: int
    """Admitted calls that have not finished yet, of any generation."""
    successes: int
    """Calls counted as successes since the breaker was made."""
    failures: int
    """Calls counted as failures since the breaker was made."""
    rejections: int
    """Calls turned away with :exc:`~trioshop.CircuitOpen`."""
    ignored: int
    """Calls whose result did not count: cancelled, finished after a state change, or
    judged by an ``is_failure`` that raised."""


_Outcome = Literal["success", "failure", "nothing"]
_CO_COROUTINE = inspect.CO_COROUTINE


def _default_is_failure(exc: Exception) -> bool:
    return True


@typing.final
@attrs.define(eq=False, repr=False)
class CircuitBreaker:
    """Stop calling what keeps failing, and try it again later, carefully.

    When the espresso machine fails ``failure_threshold`` times in a row, the shift
    manager hangs an *out of order* sign on it (the breaker **opens**): baristas are
    turned away at once with :exc:`~trioshop.CircuitOpen` instead of queueing at a
    broken machine, and the sign says how long until someone may try again
    (``retry_after``). Once ``reset_timeout`` seconds have passed, the next barista to
    come along may try it (**half-open**): at most ``half_open_max_calls`` trial drinks
    at once, while everyone else is still turned away. ``success_threshold`` good drinks
    in a row and the sign comes down (**closed**); one failure and it goes back up for
    another ``reset_timeout``.

    Cancellation is not the machine's fault: a call that ends in `trio.Cancelled`
    counts as nothing, and frees its half-open slot. Neither is an exception for which
    ``is_failure(exc)`` returns false (say, the customer changed their mind): it counts
    as a success. Exception groups are judged by their leaves: one failing leaf makes
    the call a failure; otherwise a non-cancelled leaf makes it a success.

    The breaker holds nothing while the call runs, so closed-state calls run fully
    concurrently. A call that was admitted before the breaker last changed state
    finishes normally, but its result is ignored: a slow failure from before the
    machine was repaired does not break it again.

    Example::

        breaker = trioshop.CircuitBreaker(failure_threshold=3, reset_timeout=30)
        try:
            shot = await breaker.call(machine.pull_shot, "double")
        except trioshop.CircuitOpen as exc:
            print(f"machine out of order, try again in {exc.retry_after:.0f}s")

        async with breaker:          # the same, for a block of code
            await machine.steam_milk()

    Time comes only from Trio's clock: the breaker runs unchanged in virtual time.

    Args:
        failure_threshold: consecutive failures that open a closed breaker, ``>= 1``.
        reset_timeout: seconds an open breaker stays open, ``>= 0``; it turns half-open
            strictly after they have passed, lazily, when it is next looked at.
        half_open_max_calls: trial calls allowed at once when half-open, ``>= 1``.
        success_threshold: consecutive half-open successes that close it, ``>= 1``.
        is_failure: ``is_failure(exc) -> bool`` decides whether an `Exception` counts
            as a failure (default: every one does). It is called once per leaf of an
            exception group, and only for results that count. It should not raise; if
            it does, the call counts as nothing and that exception propagates.
        on_state_change: ``on_state_change(old, new)`` is called synchronously on every
            transition, the lazy open → half-open one included. It should not raise;
            if it does, the exception propagates to the caller that caused the
            transition (the transition has already happened).

    Raises:
        ValueError: a threshold is not ``>= 1`` or ``reset_timeout`` is negative or NaN.
        TypeError: a value has the wrong type, or a callback is not callable.

    .. versionadded:: 0.1
    """

    _failure_threshold: int = attrs.field(default=5, kw_only=True, alias="failure_threshold")
    _reset_timeout: float = attrs.field(default=30.0, kw_only=True, alias="reset_timeout")
    _half_open_max_calls: int = attrs.field(default=1, kw_only=True, alias="half_open_max_calls")
    _success_threshold: int = attrs.field(default=1, kw_only=True, alias="success_threshold")
    _is_failure: Callable[[Exception], bool] | None = attrs.field(
        default=None, kw_only=True, alias="is_failure"
    )
    _on_state_change: Callable[[BreakerState, BreakerState], object] | None = attrs.field(
        default=None, kw_only=True, alias="on_state_change"
    )

    _state: BreakerState = attrs.field(init=False, default=BreakerState.CLOSED)
    _generation: int = attrs.field(init=False, default=0)
    _opened_at: float = attrs.field(init=False, default=0.0)
    _consecutive_failures: int = attrs.field(init=False, default=0)
    _consecutive_successes: int = attrs.field(init=False, default=0)
    _half_open_running: int = attrs.field(init=False, default=0)
    _in_flight: int = attrs.field(init=False, default=0)
    _successes: int = attrs.field(init=False, default=0)
    _failures: int = attrs.field(init=False, default=0)
    _rejections: int = attrs.field(init=False, default=0)
    _ignored: int = attrs.field(init=False, default=0)
    # Generations admitted by `async with`, per task (a stack: blocks may nest).
    _entered: dict[trio.lowlevel.Task, list[int]] = attrs.field(init=False, factory=dict)

    def __attrs_post_init__(self) -> None:
        check_int("failure_threshold", self._failure_threshold, minimum=1)
        self._reset_timeout = check_float("reset_timeout", self._reset_timeout, minimum=0)
        check_int("half_open_max_calls", self._half_open_max_calls, minimum=1)
        check_int("success_threshold", self._success_threshold, minimum=1)
        for name, fn in (
            ("is_failure", self._is_failure),
            ("on_state_change", self._on_state_change),
        ):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be callable or None, got {fn!r}")

    def __repr__(self) -> str:
        try:
            now: float | None = trio.current_time()
        except RuntimeError:  # outside Trio: no clock to check the timeout against
            now = None
        state = self._state if now is None else self._refresh(now)
        if state is BreakerState.CLOSED:
            detail = f"{self._consecutive_failures}/{self._failure_threshold} failures"
        elif state is BreakerState.HALF_OPEN:
            detail = f"{self._consecutive_successes}/{self._success_threshold} successes"
        elif now is None:
            detail = f"reset_timeout {self._reset_timeout:g}s"
        else:
            detail = f"retry after {self._retry_after(now):g}s"
        return f"<trioshop.CircuitBreaker {state.value}, {detail}, {self._in_flight} in flight>"

    # -- state machine ------------------------------------------------------------------

    def _transition(self, new: BreakerState, now: float) -> None:
        old = self._state
        self._state = new
        self._generation += 1
        self._consecutive_failures = 0
        self._consecutive_successes = 0
        self._half_open_running = 0
        if new is BreakerState.OPEN:
            self._opened_at = now
        if self._on_state_change is not None:
            self._on_state_change(old, new)

    def _refresh(self, now: float) -> BreakerState:
        """Apply the lazy open → half-open transition if its time has come."""
        if self._state is BreakerState.OPEN and now - self._opened_at > self._reset_timeout:
            self._transition(BreakerState.HALF_OPEN, now)
        return self._state

    def _retry_after(self, now: float) -> float:
        # Half-open comes strictly after opened_at + reset_timeout. At that very instant
        # the exact remainder is 0, and `await trio.sleep(exc.retry_after)` in a loop would
        # spin for ever under MockClock: hint the first moment that is past it instead.
        ready_at = self._opened_at + self._reset_timeout
        remaining = ready_at - now
        if remaining > 0:
            return remaining
        return math.nextafter(ready_at, math.inf) - now

    def _admit(self) -> int:
        """Admit one call now, or raise `CircuitOpen`; returns its generation."""
        now = trio.current_time()
        state = self._refresh(now)
        if state is BreakerState.OPEN:
            self._rejections += 1
            raise CircuitOpen(self._retry_after(now), state="open")
        if state is BreakerState.HALF_OPEN:
            if self._half_open_running >= self._half_open_max_calls:
                self._rejections += 1
                raise CircuitOpen(0.0, state="half-open and busy")
            self._half_open_running += 1
        self._in_flight += 1
        return self._generation

    def _classify(self, exc: BaseException | None) -> _Outcome:
        if exc is None:
            return "success"
        if isinstance(exc, BaseExceptionGroup):
            leaves = [self._classify(leaf) for leaf in exc.exceptions]
            if "failure" in leaves:
                return "failure"
            return "success" if "success" in leaves else "nothing"
        if not isinstance(exc, Exception):  # Cancelled, KeyboardInterrupt, ...
            return "nothing"
        is_failure = self._is_failure or _default_is_failure
        return "failure" if is_failure(exc) else "success"

    def _record(self, generation: int, exc: BaseException | None) -> None:
        self._in_flight -= 1
        now = trio.current_time()
        # Calls are only admitted closed or half-open, so an open breaker (due for the
        # lazy transition or not) never has the generation of a call that ends: count
        # the call before on_state_change runs, in case it raises.
        if generation != self._generation or self._state is BreakerState.OPEN:
            self._ignored += 1
            self._refresh(now)
            return
        if self._state is BreakerState.HALF_OPEN:
            self._half_open_running -= 1
        # is_failure runs last, once the bookkeeping is consistent: if it raises, the
        # call counts as nothing and its exception propagates.
        try:
            outcome = self._classify(exc)
        except BaseException:
            self._ignored += 1
            raise
        if outcome == "nothing":
            self._ignored += 1
        elif outcome == "success":
            self._successes += 1
            self._consecutive_failures = 0
            self._consecutive_successes += 1
            if (
                self._state is BreakerState.HALF_OPEN
                and self._consecutive_successes >= self._success_threshold
            ):
                self._transition(BreakerState.CLOSED, now)
        else:
            self._failures += 1
            self._consecutive_successes = 0
            self._consecutive_failures += 1
            if self._state is BreakerState.HALF_OPEN or (
                self._consecutive_failures >= self._failure_threshold
            ):
                self._transition(BreakerState.OPEN, now)

    # -- public API -----------------------------------------------------------------------

    @property
    def state(self) -> BreakerState:
        """The current `BreakerState`. Reading it may perform the lazy open →
        half-open transition (and call ``on_state_change``). Not a checkpoint."""
        return self._refresh(trio.current_time())

    async def call(self, fn: Callable[[Unpack[Ts]], Awaitable[R]], *args: *Ts) -> R:
        """Call ``await fn(*args)`` through the breaker and return its result.

        The result is recorded after ``fn`` finishes: a success, a failure (which may
        open the breaker), or nothing (`trio.Cancelled`, or a result from before the
        breaker last changed state). Whatever ``fn`` raises propagates unchanged.

        Checkpoints: a rejected call is a full checkpoint (a caller that is already
        cancelled gets `trio.Cancelled` rather than `CircuitOpen`). An admitted call
        adds no checkpoint of its own: ``breaker.call(fn)`` is a checkpoint exactly when
        ``fn`` is, and costs almost nothing more than ``fn`` (about 0.9x its
        throughput for a call that does one checkpoint). Cancelling it cancels ``fn``;
        the `trio.Cancelled` counts as nothing.

        Raises:
            CircuitOpen: the breaker is open, or half-open with every trial slot busy;
                ``fn`` was not called.
            TypeError: ``fn`` is not an async function.
        """
        code = getattr(fn, "__code__", None)  # async def functions and methods: fast path
        if code is None or not code.co_flags & _CO_COROUTINE:
            check_async_callable("fn", fn)
        # No checkpoint of our own on the way in: the call is exactly as much a
        # checkpoint as fn is (see the docstring), and costs next to nothing more.
        closed = self._state is _CLOSED
        if closed:
            # The closed path, inlined: no clock reading, no state change possible.
            generation = self._generation
            self._in_flight += 1
        else:
            # Open or half-open: a cancelled caller takes no trial slot and is not
            # counted as a rejection.
            await trio.lowlevel.checkpoint_if_cancelled()
            try:
                generation = self._admit()
            except CircuitOpen:
                await trio.lowlevel.cancel_shielded_checkpoint()
                raise
        try:
            result = await fn(*args)
        except BaseException as exc:
            self._record(generation, exc)
            raise
        if closed and generation == self._generation:
            # Still the same closed generation (any transition bumps it): a success.
            self._in_flight -= 1
            self._successes += 1
            self._consecutive_failures = 0
            self._consecutive_successes += 1
        else:
            self._record(generation, None)
        return result

    async def __aenter__(self) -> CircuitBreaker:
        """Admit the block as one call (a full checkpoint), or raise `CircuitOpen`."""
        await trio.lowlevel.checkpoint_if_cancelled()
        try:
            generation = self._admit()
        finally:
            await trio.lowlevel.cancel_shielded_checkpoint()
        self._entered.setdefault(trio.lowlevel.current_task(), []).append(generation)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Record how the block ended; never a checkpoint, never swallows an exception."""
        task = trio.lowlevel.current_task()
        stack = self._entered[task]
        generation = stack.pop()
        if not stack:
            del self._entered[task]
        self._record(generation, exc)

    def statistics(self) -> CircuitBreakerStatistics:
        """A snapshot of the breaker (not a checkpoint; may perform the lazy
        open → half-open transition)."""
        return CircuitBreakerStatistics(
            state=self.state,
            consecutive_failures=self._consecutive_failures,
            consecutive_successes=self._consecutive_successes,
            in_flight=self._in_flight,
            successes=self._successes,
            failures=self._failures,
            rejections=self._rejections,
            ignored=self._ignored,
        )
