"""Exceptions raised by trioshop.

Where Trio already has an exception with the right meaning (`trio.WouldBlock`,
`trio.ClosedResourceError`, ...) trioshop raises or subclasses it. Failures that only
trioshop can have derive from :exc:`TrioshopError`.
"""

from __future__ import annotations

import trio


class TrioshopError(Exception):
    """Base class of every trioshop-specific error."""


class ShopClosed(TrioshopError, trio.ClosedResourceError):
    """The shop takes no more orders: it was closed, cancelled or has shut down.

    Raised by :meth:`Shop.place_order` and :meth:`Shop.try_place_order`. It is also a
    `trio.ClosedResourceError`, so code written against Trio channels handles it too.
    """


class QueueFull(TrioshopError, trio.WouldBlock):
    """:meth:`Shop.try_place_order` found no idle barista and no room in the queue.

    It is a `trio.WouldBlock`, the exception Trio's own ``*_nowait`` calls raise; the
    order was not accepted and is counted in ``ShopStatistics.rejected``.
    """


class OrderCancelled(TrioshopError):
    """The order was accepted but never produced a result.

    Raised by :meth:`Ticket.result` when the order was withdrawn with
    :meth:`Ticket.cancel`, missed its deadline, or was still queued or being made when
    the shop was cancelled. ``reason`` says which.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        #: Why the order was cancelled, in words (``"withdrawn"``, ``"deadline passed"``, ...).
        self.reason = reason


class CircuitOpen(TrioshopError):
    """A :class:`~trioshop.CircuitBreaker` turned the call away; the function was not called.

    The breaker is open (the machine is broken and nobody may use it until
    ``reset_timeout`` has passed), or it is half-open and already has as many trial
    calls running as it allows. ``retry_after`` says how many seconds remain until the
    breaker lets a trial call through; sleeping that long and calling again gets past an
    open breaker (under a virtual clock too). When the breaker is half-open and only busy,
    when it frees up depends on the trial calls in flight: ``retry_after`` is then
    ``0.0``, and callers should back off (see :class:`~trioshop.Backoff`) rather than
    sleep ``retry_after`` in a loop.
    """

    def __init__(self, retry_after: float, *, state: str = "open") -> None:
        super().__init__(f"circuit {state}: retry after {retry_after:.3g}s")
        #: Seconds (on Trio's clock) until the breaker admits a trial call again.
        self.retry_after = retry_after
