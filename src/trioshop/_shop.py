"""The shop: a bounded worker pool that loses nothing.

Go programs build a worker pool from goroutines, a buffered channel and a
``sync.WaitGroup``, and the discipline of closing the channel at the right moment is left
to the programmer. Here the pool is an ``async with`` block: baristas are tasks in a
nursery the shop owns, orders wait in a bounded queue, and leaving the block is the
graceful shutdown.

Implementation notes (the design that makes the shop cheap):

* The queue is a plain :class:`collections.deque` of tickets. Idle baristas and blocked
  customers park with :func:`trio.lowlevel.wait_task_rescheduled` and are handed work
  directly, so a hand-over costs one reschedule and no extra channel round trip.
* A barista that finds work in the queue takes it without a checkpoint: the handler's own
  checkpoints are the scheduling points.
* Each barista runs its orders inside one long-lived cancel scope. A withdrawn order or a
  per-order deadline cancels (or sets the deadline of) that scope; only then does the
  barista open a fresh one. Orders with no deadline and no withdrawal cost no cancel
  scope at all.
* Every per-order step is O(1): nothing scans the baristas or the queue, except
  withdrawing a queued order, which removes it from the queue (O(queue length)).
"""

from __future__ import annotations

import math
from collections import deque
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, cast, final

import attrs
import outcome
import trio

from ._errors import OrderCancelled, QueueFull, ShopClosed
from ._util import NoPublicConstructor, check_async_callable, check_float, check_int

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from contextlib import AbstractAsyncContextManager
    from types import TracebackType

OrderT = TypeVar("OrderT")
ResultT = TypeVar("ResultT")

# A ticket's life: queued -> handed to a barista -> done. "Handed" covers both the moment
# between hand-over and the handler's start and the handler's run.
_QUEUED: Final = 0
_HANDED: Final = 1
_DONE: Final = 2

_WITHDRAWN: Final = "withdrawn"
_DEADLINE: Final = "deadline passed"
_SHOP_CANCELLED: Final = "shop cancelled"
_GRACE_OVER: Final = "grace period over"
_INTERRUPTED: Final = "interrupted"


def _check_deadline(deadline: object) -> float:
    return check_float("deadline", deadline)


@final
@attrs.define(eq=False, repr=False)
class Ticket(Generic[ResultT], metaclass=NoPublicConstructor):
    """The receipt for one accepted order.

    Handed out by :meth:`Shop.place_order` and :meth:`Shop.try_place_order`; there is no
    public constructor. A ticket ends in exactly one outcome: the handler's value, the
    handler's exception, or :exc:`OrderCancelled`.

    Example::

        ticket = await shop.place_order("flat white", deadline=trio.current_time() + 60)
        try:
            drink = await ticket.result()
        except trioshop.OrderCancelled as exc:
            print("no drink:", exc.reason)

    .. versionadded:: 0.1
    """

    #: The order, exactly as it was placed.
    order: Any
    #: The order's absolute deadline on Trio's clock, or ``None``.
    deadline: float | None
    _shop: Shop[Any, ResultT]
    _state: int = attrs.field(init=False, default=_QUEUED)
    _scope: trio.CancelScope | None = attrs.field(init=False, default=None)
    _maker: trio.lowlevel.Task | None = attrs.field(init=False, default=None)
    _withdrawn: bool = attrs.field(init=False, default=False)
    _value: ResultT | None = attrs.field(init=False, default=None)
    _error: BaseException | None = attrs.field(init=False, default=None)
    # The traceback the handler's exception had, restored before each raise so that
    # raising it to many waiters does not pile their frames onto it.
    _error_tb: TracebackType | None = attrs.field(init=False, default=None)
    _reason: str | None = attrs.field(init=False, default=None)
    _event: trio.Event | None = attrs.field(init=False, default=None)

    @property
    def done(self) -> bool:
        """True once the order has its outcome (a value, an exception, or cancelled)."""
        return self._state == _DONE

    @property
    def cancelled(self) -> bool:
        """True if the order ended as :exc:`OrderCancelled` (withdrawn, late, or stopped)."""
        return self._reason is not None

    def cancel(self) -> None:
        """Withdraw the order.

        A queued order leaves the queue at once (freeing its place for the next customer)
        and ends as :exc:`OrderCancelled`. An order being made has its handler cancelled,
        at the handler's next checkpoint; if the handler finishes anyway (it was shielded,
        or had no checkpoint left), its value or exception stands. Cancelling a finished
        order does nothing. Not a checkpoint.
        """
        if self._state == _DONE:
            return
        self._withdrawn = True
        if self._state == _QUEUED:
            self._shop._withdraw(self, _WITHDRAWN)
        elif self._scope is not None:
            self._scope.cancel()

    async def result(self) -> ResultT:
        """Wait for the order and return the handler's value, or raise its exception.

        Any number of tasks may wait on one ticket; each gets the same value or exception.
        If the order has a deadline and is still queued when the deadline passes, waiting
        on it withdraws it then, so a waiter never waits past a queued order's deadline.

        This is a checkpoint. Cancelling the *wait* does not cancel the order: use
        :meth:`cancel` for that.

        Raises:
            OrderCancelled: the order was withdrawn, missed its deadline, or was still
                queued or being made when the shop was cancelled.
            RuntimeError: called by the handler making this very order (it would wait
                for itself forever).
            Exception: whatever the handler raised.
        """
        if self._state == _DONE:
            await trio.lowlevel.checkpoint_if_cancelled()
            await trio.lowlevel.cancel_shielded_checkpoint()
        else:
            if self._maker is trio.lowlevel.current_task():
                await trio.lowlevel.checkpoint()
                raise RuntimeError(
                    "a handler cannot wait for the result of its own order: it would wait forever"
                )
            if self._event is None:
                self._event = trio.Event()
            if self.deadline is not None and self._state == _QUEUED:
                with trio.move_on_at(self.deadline):
                    await self._event.wait()
                if self._state == _QUEUED:
                    self._shop._withdraw(self, _DEADLINE)
            await self._event.wait()
        if self._reason is not None:
            raise OrderCancelled(self._reason)
        if self._error is not None:
            raise self._error.with_traceback(self._error_tb)
        return self._value  # type: ignore[return-value]

    def outcome(self) -> outcome.Outcome[ResultT]:
        """The finished order as an :class:`outcome.Outcome`, without waiting.

        ``outcome.Value(result)``, or ``outcome.Error(exc)`` with the handler's exception
        or an :exc:`OrderCancelled`. Not a checkpoint.

        Raises:
            RuntimeError: the order is not done yet.
        """
        if self._state != _DONE:
            raise RuntimeError("the order is not done yet; await ticket.result() instead")
        if self._reason is not None:
            return outcome.Error(OrderCancelled(self._reason))
        if self._error is not None:
            return outcome.Error(self._error.with_traceback(self._error_tb))
        return outcome.Value(self._value)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        if self._state == _QUEUED:
            state = "queued"
        elif self._state == _HANDED:
            state = "being made"
        elif self._reason is not None:
            state = f"cancelled ({self._reason})"
        elif self._error is not None:
            state = f"failed ({type(self._error).__name__})"
        else:
            state = "completed"
        return f"<trioshop.Ticket {self.order!r} {state}>"

    # --- resolution: exactly one of these runs, once, per ticket -------------------------

    def _resolve_value(self, value: ResultT) -> None:
        self._value = value
        self._shop._completed += 1
        self._finish()

    def _resolve_error(self, error: BaseException) -> None:
        self._error = error
        self._error_tb = error.__traceback__
        self._shop._failed += 1
        self._finish()

    def _resolve_cancelled(self, reason: str) -> None:
        self._reason = reason
        self._shop._cancelled += 1
        self._finish()

    def _finish(self) -> None:
        self._state = _DONE
        self._scope = None
        self._maker = None
        if self._event is not None:
            self._event.set()


@final
@attrs.frozen
class ShopStatistics:
    """A snapshot of a :class:`Shop`, from :meth:`Shop.statistics`.

    After the shop's ``async with`` block has exited, always
    ``accepted == completed + failed + cancelled``.
    """

    #: How many baristas the shop employs.
    baristas: int
    #: How many orders may wait beyond those being made (0: a rendezvous).
    queue_size: int
    #: Orders accepted and waiting for a barista.
    queued: int
    #: Orders handed to a barista and not finished (being made, or about to be).
    in_progress: int
    #: Baristas waiting for an order.
    idle_baristas: int
    #: Customers blocked in :meth:`Shop.place_order` because the queue is full.
    waiting_to_order: int
    #: Orders accepted so far.
    accepted: int
    #: Orders whose handler returned a value.
    completed: int
    #: Orders whose handler raised an exception.
    failed: int
    #: Orders that ended as :exc:`OrderCancelled`.
    cancelled: int
    #: Orders refused by :meth:`Shop.try_place_order` because the queue was full.
    rejected: int
    #: True once the shop takes no more orders.
    closed: bool


@final
@attrs.define(eq=False, repr=False)
class Shop(Generic[OrderT, ResultT], metaclass=NoPublicConstructor):
    """A coffee shop: a fixed crew of baristas making orders from a bounded queue.

    Opened with :func:`open_shop`, which owns the baristas; there is no public
    constructor. Customers place orders; each accepted order gets a :class:`Ticket`.

    .. versionadded:: 0.1
    """

    _handler: Callable[[OrderT], Awaitable[ResultT]]
    _baristas: int
    _queue_size: int
    _queue: deque[Ticket[ResultT]] = attrs.field(init=False, factory=deque)
    _idle: deque[trio.lowlevel.Task] = attrs.field(init=False, factory=deque)
    _customers: deque[tuple[trio.lowlevel.Task, Ticket[ResultT]]] = attrs.field(
        init=False, factory=deque
    )
    _closed: bool = attrs.field(init=False, default=False)
    _stop_reason: str | None = attrs.field(init=False, default=None)
    _staff_scope: trio.CancelScope | None = attrs.field(init=False, default=None)
    # Baristas not yet waiting for their first order, and the event the last one sets.
    _starting: int = attrs.field(init=False, default=0)
    _crew_ready: trio.Event | None = attrs.field(init=False, default=None)
    _in_progress: int = attrs.field(init=False, default=0)
    _accepted: int = attrs.field(init=False, default=0)
    _completed: int = attrs.field(init=False, default=0)
    _failed: int = attrs.field(init=False, default=0)
    _cancelled: int = attrs.field(init=False, default=0)
    _rejected: int = attrs.field(init=False, default=0)

    # --- taking orders -------------------------------------------------------------------

    async def place_order(
        self, order: OrderT, *, deadline: float | None = None
    ) -> Ticket[ResultT]:
        """Place an order, waiting for room in the queue if it is full (back pressure).

        Args:
            order: handed to the shop's handler as it is.
            deadline: an absolute time on Trio's clock (``trio.current_time() + 60``)
                after which the order is worthless. The handler runs under a cancel
                scope with this deadline; an order still queued when it passes is never
                started. Either way it ends as :exc:`OrderCancelled`. The deadline bounds
                the *order*; to bound the wait for a place in the queue, wrap this call in
                a cancel scope.

        Returns:
            The order's ticket.

        This is a checkpoint. It is cancel-atomic: if it is cancelled, the order was not
        accepted and nothing of it remains; if it returns, the order was accepted. Waiting
        customers are served first come, first served.

        Raises:
            ShopClosed: the shop is closed, or closed while this call waited.
            ValueError: ``deadline`` is NaN.
        """
        if deadline is not None:
            deadline = _check_deadline(deadline)
        await trio.lowlevel.checkpoint_if_cancelled()
        if self._closed:
            raise ShopClosed("the shop is closed")
        ticket = self._new_ticket(order, deadline)
        if self._idle or len(self._queue) < self._queue_size:
            self._admit(ticket)
            await trio.lowlevel.cancel_shielded_checkpoint()
            return ticket
        task = trio.lowlevel.current_task()
        entry = (task, ticket)
        self._customers.append(entry)

        def abort(_: trio.lowlevel.RaiseCancelT) -> trio.lowlevel.Abort:
            self._customers.remove(entry)
            return trio.lowlevel.Abort.SUCCEEDED

        return await trio.lowlevel.wait_task_rescheduled(abort)  # type: ignore[no-any-return]

    def try_place_order(self, order: OrderT, *, deadline: float | None = None) -> Ticket[ResultT]:
        """Place an order only if a barista or a place in the queue is free right now.

        Same as :meth:`place_order` but never waits; a refused order is counted in
        ``statistics().rejected``. Not a checkpoint; works even in a cancelled scope.

        Raises:
            QueueFull: no idle barista and no room in the queue (a `trio.WouldBlock`).
            ShopClosed: the shop is closed.
            ValueError: ``deadline`` is NaN.
        """
        if deadline is not None:
            deadline = _check_deadline(deadline)
        if self._closed:
            raise ShopClosed("the shop is closed")
        if self._idle or len(self._queue) < self._queue_size:
            ticket = self._new_ticket(order, deadline)
            self._admit(ticket)
            return ticket
        self._rejected += 1
        raise QueueFull(
            f"all {self._baristas} baristas are busy and the queue is full "
            f"({self._queue_size} waiting)"
        )

    # --- stopping ------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once the shop takes no more orders."""
        return self._closed

    def close(self) -> None:
        """Stop taking orders; the baristas make everything already accepted.

        Customers blocked in :meth:`place_order` get :exc:`ShopClosed` (their orders were
        never accepted). Leaving the ``async with`` block calls this and waits for the
        queue to drain. Idempotent; not a checkpoint.
        """
        if self._closed:
            return
        self._closed = True
        customers, self._customers = self._customers, deque()
        for task, _ in customers:
            trio.lowlevel.reschedule(
                task, outcome.Error(ShopClosed("the shop closed while the order waited"))
            )
        # The queue is empty whenever a barista is idle, so every idle barista is done.
        idle, self._idle = self._idle, deque()
        for task in idle:
            trio.lowlevel.reschedule(task, outcome.Value(None))

    def cancel(self) -> None:
        """Close now: queued orders are cancelled and orders being made are cancelled.

        Every ticket still open ends as :exc:`OrderCancelled` (reason ``"shop
        cancelled"``), except that a handler which finishes despite the cancellation keeps
        its result. The body of the ``async with`` block is *not* cancelled: it can go on
        to look at the tickets. Idempotent; not a checkpoint.
        """
        self._stop(_SHOP_CANCELLED)

    def statistics(self) -> ShopStatistics:
        """A snapshot of the shop's counters. Not a checkpoint."""
        return ShopStatistics(
            baristas=self._baristas,
            queue_size=self._queue_size,
            queued=len(self._queue),
            in_progress=self._in_progress,
            idle_baristas=len(self._idle),
            waiting_to_order=len(self._customers),
            accepted=self._accepted,
            completed=self._completed,
            failed=self._failed,
            cancelled=self._cancelled,
            rejected=self._rejected,
            closed=self._closed,
        )

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (
            f"<trioshop.Shop {state}, {self._in_progress}/{self._baristas} baristas busy, "
            f"{len(self._queue)}/{self._queue_size} queued, {self._accepted} accepted>"
        )

    # --- internals -----------------------------------------------------------------------

    def _new_ticket(self, order: OrderT, deadline: float | None) -> Ticket[ResultT]:
        return cast("Ticket[ResultT]", Ticket._create(order, deadline, self))

    def _admit(self, ticket: Ticket[ResultT]) -> None:
        """Accept *ticket*: hand it to an idle barista, or queue it. Caller checked room."""
        self._accepted += 1
        if self._idle:
            ticket._state = _HANDED
            self._in_progress += 1
            trio.lowlevel.reschedule(self._idle.popleft(), outcome.Value(ticket))
        else:
            self._queue.append(ticket)

    def _withdraw(self, ticket: Ticket[ResultT], reason: str) -> None:
        """Remove a queued *ticket* and let the first blocked customer into the queue."""
        self._queue.remove(ticket)
        ticket._resolve_cancelled(reason)
        if self._customers:
            task, waiting = self._customers.popleft()
            self._admit(waiting)
            trio.lowlevel.reschedule(task, outcome.Value(waiting))

    def _next_order(self) -> Ticket[ResultT] | None:
        """The next order for a barista that just became free, or ``None``."""
        if self._queue:
            ticket = self._queue.popleft()
            if self._customers:
                task, waiting = self._customers.popleft()
                self._accepted += 1
                self._queue.append(waiting)
                trio.lowlevel.reschedule(task, outcome.Value(waiting))
        elif self._customers:  # only with queue_size=0: take the order from the customer
            task, ticket = self._customers.popleft()
            self._accepted += 1
            trio.lowlevel.reschedule(task, outcome.Value(ticket))
        else:
            return None
        ticket._state = _HANDED
        self._in_progress += 1
        return ticket

    def _stop(self, reason: str) -> None:
        """Close, cancel every queued order, and cancel the baristas."""
        self.close()
        if self._stop_reason is None:
            self._stop_reason = reason
        queue, self._queue = self._queue, deque()
        for ticket in queue:
            ticket._resolve_cancelled(self._stop_reason)
        if self._staff_scope is not None:
            self._staff_scope.cancel()

    def _cancel_reason(self, ticket: Ticket[ResultT]) -> str:
        """Why a handler that was cancelled did not finish."""
        if ticket._withdrawn:
            return _WITHDRAWN
        if ticket.deadline is not None and trio.current_time() >= ticket.deadline:
            return _DEADLINE
        return self._staff_stop_reason()

    def _staff_stop_reason(self) -> str:
        if self._stop_reason is not None:
            return self._stop_reason
        scope = self._staff_scope
        if scope is not None and scope.cancel_called and trio.current_time() >= scope.deadline:
            return _GRACE_OVER
        return _SHOP_CANCELLED

    async def _run_staff(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        try:
            async with trio.open_nursery() as staff:
                self._staff_scope = staff.cancel_scope
                self._starting = self._baristas
                self._crew_ready = ready = trio.Event()
                for _ in range(self._baristas):
                    staff.start_soon(self._barista)
                # The block starts once every barista waits for an order, so that a
                # try_place_order at once finds them free.
                await ready.wait()
                task_status.started()
        finally:
            # The crew has gone home. Whatever is still queued was never made.
            self._stop(self._staff_stop_reason())

    async def _barista(self) -> None:
        # One cancel scope serves many orders; a fresh one only after it was used.
        while True:
            scope = trio.CancelScope()
            with scope:
                if await self._serve(scope):
                    return

    async def _serve(self, scope: trio.CancelScope) -> bool:
        """Make orders under *scope*. True: the shop closed and drained. False: *scope*
        was cancelled (a withdrawn or late order) and the barista needs a fresh one."""
        handler = self._handler
        me = trio.lowlevel.current_task()
        while True:
            ticket = self._next_order()
            if ticket is None:
                if self._closed:
                    return True
                ticket = await self._wait_for_order()
                if ticket is None:
                    return True
            # From here on the ticket counts as in progress until it is resolved.
            if ticket._withdrawn:
                self._skip(ticket, _WITHDRAWN)
                continue
            if self._stop_reason is not None:
                self._skip(ticket, self._stop_reason)
                continue
            if self._closed and trio.current_effective_deadline() <= trio.current_time():
                # The grace period ran out, or the block is being cancelled from outside,
                # while handlers without a checkpoint kept the crew from noticing.
                self._skip(ticket, self._staff_stop_reason())
                continue
            deadline = ticket.deadline
            if deadline is not None:
                if trio.current_time() >= deadline:
                    self._skip(ticket, _DEADLINE)
                    continue
                scope.deadline = deadline
            ticket._scope = scope
            ticket._maker = me
            try:
                value = await handler(ticket.order)
            except Exception as exc:
                self._in_progress -= 1
                ticket._resolve_error(exc)
            except BaseException as exc:
                self._in_progress -= 1
                if isinstance(exc, BaseExceptionGroup):
                    cancels, failure = exc.split(trio.Cancelled)
                    if cancels is not None and isinstance(failure, ExceptionGroup):
                        # The handler failed while it was being cancelled (a task in its
                        # nursery failed on the way out). The failure is the order's, as
                        # any handler exception; the cancellation goes on to its scope.
                        ticket._resolve_error(failure)
                        raise cancels from exc
                    interrupted = exc.subgroup((KeyboardInterrupt, SystemExit)) is not None
                else:
                    interrupted = isinstance(exc, KeyboardInterrupt | SystemExit)
                if interrupted:
                    ticket._resolve_cancelled(_INTERRUPTED)
                else:
                    ticket._resolve_cancelled(self._cancel_reason(ticket))
                raise
            else:
                self._in_progress -= 1
                ticket._resolve_value(value)
            if scope.cancel_called:
                return False
            if deadline is not None:
                scope.deadline = math.inf

    def _skip(self, ticket: Ticket[ResultT], reason: str) -> None:
        """Cancel a handed-over order without starting it."""
        self._in_progress -= 1
        ticket._resolve_cancelled(reason)

    async def _wait_for_order(self) -> Ticket[ResultT] | None:
        task = trio.lowlevel.current_task()
        self._idle.append(task)
        if self._starting:
            self._starting -= 1
            if not self._starting and self._crew_ready is not None:
                self._crew_ready.set()

        def abort(_: trio.lowlevel.RaiseCancelT) -> trio.lowlevel.Abort:
            self._idle.remove(task)
            return trio.lowlevel.Abort.SUCCEEDED

        return await trio.lowlevel.wait_task_rescheduled(abort)  # type: ignore[no-any-return]


def open_shop(
    handler: Callable[[OrderT], Awaitable[ResultT]],
    *,
    baristas: int,
    queue_size: int = 0,
    grace_period: float | None = None,
) -> AbstractAsyncContextManager[Shop[OrderT, ResultT]]:
    """Open a coffee shop: ``baristas`` tasks making orders with ``handler``.

    ``async def handler(order) -> result`` makes one order. Each barista is a task in a
    nursery the shop owns, so no barista outlives the ``async with`` block. Up to
    ``queue_size`` accepted orders wait beyond those being made (``0``: every order is
    handed straight to a free barista, like an unbuffered Go channel).

    Example::

        async def make(order: str) -> str:
            await trio.sleep(2)
            return f"{order}, ready"

        async with trioshop.open_shop(make, baristas=3, queue_size=10) as shop:
            ticket = await shop.place_order("cortado")
            print(await ticket.result())

    How the block ends decides what happens to open orders:

    * **Normally**: the shop closes (no new orders) and the block waits until the
      baristas have made every accepted order. With ``grace_period=``, whatever is not
      done that many seconds after the block ended is cancelled.
    * **An exception in the body, or a cancellation from outside**: the shop is cancelled
      at once; every queued or running order ends as :exc:`OrderCancelled`, and the
      exception propagates unchanged (not wrapped in an exception group).

    A handler's ``Exception`` goes to its ticket and the barista carries on;
    ``KeyboardInterrupt`` and ``SystemExit`` propagate. After the block, whatever
    happened, ``accepted == completed + failed + cancelled``, every ticket is done and no
    barista is left.

    Args:
        handler: an ``async def`` function (or other async callable) of one order.
        baristas: how many orders are made at once; ``>= 1``.
        queue_size: how many accepted orders may wait; ``>= 0``.
        grace_period: seconds to wait for the queue to drain when the block ends
            normally, ``>= 0``; ``None`` waits as long as it takes.

    Raises:
        ValueError: ``baristas < 1``, ``queue_size < 0``, or ``grace_period`` negative or
            NaN (raised here, at the call).
        TypeError: ``handler`` is not an async callable, or a count is not an int.

    .. versionadded:: 0.1
    """
    check_async_callable("handler", handler)
    check_int("baristas", baristas, minimum=1)
    check_int("queue_size", queue_size, minimum=0)
    grace = None if grace_period is None else check_float("grace_period", grace_period, minimum=0)
    shop = cast("Shop[OrderT, ResultT]", Shop._create(handler, baristas, queue_size))
    return _run_shop(shop, grace)


@asynccontextmanager
async def _run_shop(
    shop: Shop[OrderT, ResultT], grace_period: float | None
) -> AsyncIterator[Shop[OrderT, ResultT]]:
    body_error: BaseException | None = None
    try:
        async with trio.open_nursery() as nursery:
            # The crew runs in a nursery of its own, so cancelling the shop never cancels
            # the body of the ``async with`` block.
            await nursery.start(shop._run_staff)
            try:
                yield shop
            except BaseException as exc:
                # Not re-raised inside the nursery: that would wrap it in an ExceptionGroup.
                body_error = exc
                shop._stop(_SHOP_CANCELLED)
            else:
                shop.close()
                if grace_period is not None and shop._staff_scope is not None:
                    shop._staff_scope.deadline = trio.current_time() + grace_period
    except BaseExceptionGroup as group:
        _, failures = group.split(trio.Cancelled)
        if failures is None:
            # Only the baristas' cancellations: an enclosing scope is cancelling the
            # block. It leaves as the body's exception, or as one plain Cancelled.
            if body_error is None:
                await trio.lowlevel.checkpoint_if_cancelled()
                raise
        elif body_error is None or isinstance(body_error, trio.Cancelled):
            raise
        else:
            # The body failed and so did the crew (a KeyboardInterrupt in a handler):
            # report both, lose neither.
            body_error = BaseExceptionGroup(
                "the body of the async with block and the shop's crew both failed",
                [body_error, *failures.exceptions],
            )
    if body_error is not None:
        try:
            raise body_error
        finally:
            del body_error
