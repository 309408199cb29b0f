"""The rate limiter at the door: a token bucket on Trio's clock (Go's ``x/time/rate``).

No background task refills the bucket: the token count is *settled* lazily from the time
elapsed since it was last looked at, the way ``x/time/rate`` does it. Waiters queue in a
fair :class:`trio.Lock`; only the task at the head of the queue sleeps, until the moment
its tokens will be there, so FIFO order and cancel-safety come from Trio's own
primitives.
"""

from __future__ import annotations

import math
import typing

import attrs
import trio

from ._util import check_float, check_int

_MAX_BURST = 2**53

_INF = math.inf
# Looked up once: the fast path of `TokenBucket.acquire` is measured in nanoseconds.
_current_time = trio.current_time
_checkpoint_if_cancelled = trio.lowlevel.checkpoint_if_cancelled
_cancel_shielded_checkpoint = trio.lowlevel.cancel_shielded_checkpoint


@typing.final
@attrs.frozen
class TokenBucketStatistics:
    """A snapshot of a :class:`TokenBucket`, returned by :meth:`TokenBucket.statistics`.

    .. versionadded:: 0.1
    """

    rate: float
    """Tokens added per second (``math.inf``: the bucket never runs dry)."""
    burst: int
    """The bucket's size: the most tokens it holds, and the largest single request."""
    tokens: float
    """Tokens in the bucket right now (fractional while it refills)."""
    waiting: int
    """Tasks blocked in :meth:`TokenBucket.acquire`, the one at the head included."""
    granted: int
    """Tokens handed out since the bucket was made."""


@typing.final
@attrs.define(eq=False, repr=False)
class TokenBucket:
    """A token bucket: at most ``burst`` at once, ``rate`` per second on average.

    The door of the coffee shop lets customers in at a steady pace. A bowl by the door
    holds up to ``burst`` tokens and a clerk drops a new one in every ``1 / rate``
    seconds (continuously: half a second earns half a token). Each customer takes a
    token to enter; a group of ``n`` takes ``n`` at once. When the bowl is empty,
    customers queue outside in the order they came and the first one in line waits for
    exactly as long as it takes for enough tokens to drip in. A group never lets a
    single customer behind it slip past: the queue is first in, first out, so a large
    request is not starved by a stream of small ones.

    The bowl starts full, so the first ``burst`` tokens are granted at once. With
    ``burst=1`` the bucket is Go's *ticker* limiter: one grant every ``1 / rate``
    seconds and no bursts at all. ``rate=math.inf`` never makes anyone wait.

    There is no background task: the token count is worked out from Trio's clock
    whenever it is needed, so the bucket runs unchanged under
    :class:`trio.testing.MockClock` (virtual time).

    Example::

        door = trioshop.TokenBucket(10, burst=5)   # 10 customers/s, 5 may rush in
        async def customer() -> None:
            await door.acquire()                   # waits its turn when the bowl is empty
            ...

    Args:
        rate: tokens added per second; ``> 0``, ``math.inf`` allowed.
        burst: the bucket's size, ``>= 1``.

    Raises:
        ValueError: ``rate`` is not ``> 0`` (or is NaN), or ``burst`` is not between 1
            and 2**53.
        TypeError: ``rate`` is not a number or ``burst`` not an ``int``.

    .. versionadded:: 0.1
    """

    _rate: float = attrs.field(alias="rate")
    _burst: int = attrs.field(kw_only=True, default=1, alias="burst")
    _tokens: float = attrs.field(init=False)
    # When the tokens were last settled; -inf until first use ("full", and no clock
    # needed, so a bucket can be made and inspected outside Trio).
    _last: float = attrs.field(init=False, default=-math.inf)
    _full: float = attrs.field(init=False)
    _queue: trio.Lock = attrs.field(init=False, factory=trio.Lock)
    _waiting: int = attrs.field(init=False, default=0)
    _granted: int = attrs.field(init=False, default=0)
    # The head waiter sleeps in this scope until its tokens are due; a rate change
    # moves the deadline.
    _head_scope: trio.CancelScope | None = attrs.field(init=False, default=None)
    _head_n: int = attrs.field(init=False, default=0)

    def __attrs_post_init__(self) -> None:
        self._rate = check_float("rate", self._rate, strictly_above=0)
        self._burst = check_int("burst", self._burst, minimum=1)
        if self._burst > _MAX_BURST:
            # Tokens are floats: beyond 2**53 whole tokens stop being exact.
            raise ValueError(f"burst must be <= 2**53, got {self._burst!r}")
        self._full = self._tokens = float(self._burst)

    def __repr__(self) -> str:
        try:
            tokens = self.tokens
        except RuntimeError:  # outside Trio: show the last settled count
            tokens = self._tokens
        return (
            f"<trioshop.TokenBucket {tokens:.4g}/{self._burst} tokens, "
            f"{self._rate:g}/s, {self._waiting} waiting>"
        )

    # -- the clock arithmetic ---------------------------------------------------------

    def _settle(self, now: float) -> None:
        """Add the tokens earned since the last settlement at the current rate."""
        if self._rate == _INF:
            self._tokens = self._full
        else:
            # Before first use, now - last is inf: the bucket is full.
            tokens = self._tokens + (now - self._last) * self._rate
            self._tokens = tokens if tokens < self._full else self._full
        self._last = now

    def _ready_at(self, n: int) -> float:
        """When ``n`` tokens will be in the bucket (call right after `_settle`).

        If the wait is shorter than the clock can represent (``now + tiny == now``),
        the answer is *now*: rounding must never ask for a sleep that cannot advance
        the clock.
        """
        missing = n - self._tokens
        if missing <= 0 or self._rate == _INF:
            return self._last
        return self._last + missing / self._rate

    def _take_if_ready(self, n: int, now: float) -> bool:
        self._settle(now)
        if self._ready_at(n) > now:
            return False
        # Float rounding may leave 0.9999999999999999 when 1 is due: grant it anyway.
        self._tokens = max(0.0, self._tokens - n)
        self._granted += n
        return True

    def _check_n(self, n: object) -> int:
        n = check_int("n", n, minimum=1)
        if n > self._burst:
            raise ValueError(f"n must be <= burst ({self._burst}), got {n!r}")
        return n

    # -- public API ---------------------------------------------------------------------

    @property
    def rate(self) -> float:
        """Tokens added per second. Setting it first settles the tokens earned at the
        old rate, then refills at the new one; a waiter already sleeping wakes at the
        time the new rate gives.

        Raises:
            ValueError: the new rate is not ``> 0`` or is NaN.
        """
        return self._rate

    @rate.setter
    def rate(self, value: float) -> None:
        value = check_float("rate", value, strictly_above=0)
        if self._last == -_INF:  # never used: nothing to settle, and maybe no Trio yet
            self._rate = value
            return
        self._settle(trio.current_time())
        self._rate = value
        if self._head_scope is not None:
            self._head_scope.deadline = self._ready_at(self._head_n)

    @property
    def burst(self) -> int:
        """The bucket's size (read-only)."""
        return self._burst

    @property
    def tokens(self) -> float:
        """Tokens in the bucket now, fractional while it refills (not a checkpoint)."""
        if self._last != -_INF:
            self._settle(trio.current_time())
        return self._tokens

    def acquire_nowait(self, n: int = 1) -> None:
        """Take ``n`` tokens now, or raise without taking any.

        Not a checkpoint; ignores cancellation. Fails whenever someone is queued in
        :meth:`acquire`, even if the tokens are there: the queue is first come, first
        served.

        Raises:
            trio.WouldBlock: fewer than ``n`` tokens, or other tasks are waiting.
            ValueError: ``n`` is not ``1 <= n <= burst``.
        """
        n = self._check_n(n)
        if self._waiting or not self._take_if_ready(n, trio.current_time()):
            raise trio.WouldBlock

    async def acquire(self, n: int = 1) -> None:
        """Take ``n`` tokens, waiting in line for them if needed.

        Always a checkpoint. Waiters are served first in, first out. A waiter that is
        cancelled leaves the line having taken nothing, and the next one in line takes
        its place at once: no tokens and no wake-ups are lost.

        Raises:
            ValueError: ``n`` is not ``1 <= n <= burst`` (a request the bucket could
                never hold would wait forever).
        """
        if type(n) is not int or n < 1 or n > self._burst:
            self._check_n(n)
        await _checkpoint_if_cancelled()
        if not self._waiting:
            # The fast path, inlined (it must cost little more than a bare checkpoint):
            # settle, then take if the tokens are there or due within clock rounding.
            rate = self._rate
            if rate == _INF:
                self._granted += n
                await _cancel_shielded_checkpoint()
                return
            now = _current_time()
            tokens = self._tokens + (now - self._last) * rate
            if tokens > self._full:
                tokens = self._full
            self._last = now
            if tokens >= n or now + (n - tokens) / rate <= now:
                self._tokens = tokens - n if tokens > n else 0.0
                self._granted += n
                await _cancel_shielded_checkpoint()
                return
            self._tokens = tokens
        self._waiting += 1
        try:
            async with self._queue:
                # Head of the line: sleep until the tokens are due, then take them.
                self._head_n = n
                while not self._take_if_ready(n, trio.current_time()):
                    with trio.CancelScope(deadline=self._ready_at(n)) as scope:
                        self._head_scope = scope
                        try:
                            await trio.sleep_forever()
                        finally:
                            self._head_scope = None
                # Leaving the lock hands the head of the line to the next waiter.
        finally:
            self._waiting -= 1

    def statistics(self) -> TokenBucketStatistics:
        """A snapshot of the bucket (not a checkpoint)."""
        return TokenBucketStatistics(
            rate=self._rate,
            burst=self._burst,
            tokens=self.tokens,
            waiting=self._waiting,
            granted=self._granted,
        )
