"""Trying again, politely: exponential backoff with jitter, and `retry`.

Models: cenkalti/backoff (Go) and the AWS Architecture Blog's "Exponential Backoff and
Jitter". Sleeping uses Trio's clock only, randomness only an injectable
:class:`random.Random`, so a retry loop runs unchanged (and reproducibly) in virtual time.
"""

from __future__ import annotations

import inspect
import math
import random
import typing
from typing import TYPE_CHECKING, Literal, TypeAlias, TypeVar, TypeVarTuple

import attrs
import trio

from ._util import check_async_callable, check_float, check_int

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

R = TypeVar("R")
Ts = TypeVarTuple("Ts")

Jitter: TypeAlias = Literal["full", "equal", "decorrelated"] | float | None
RetryOn: TypeAlias = (
    type[BaseException] | tuple[type[BaseException], ...] | typing.Callable[[BaseException], bool]
)

_JITTER_NAMES = ("full", "equal", "decorrelated")
_CO_COROUTINE = inspect.CO_COROUTINE


def _check_jitter(value: object) -> Jitter:
    if value is None or value in _JITTER_NAMES:
        return value  # type: ignore[return-value]
    # (NaN fails the range test too)
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 1:
        return float(value)
    raise ValueError(
        "jitter must be None, 'full', 'equal', 'decorrelated' or a fraction in (0, 1], "
        f"got {value!r}"
    )


@typing.final
@attrs.frozen
class Backoff:
    """How long to wait between tries: exponential, capped, with jitter.

    The milk delivery is late. Phoning the dairy every second only jams their line, so
    the shop waits a little, then twice as long, then twice as long again, up to
    ``max_delay``: the *k*-th base delay is ``min(max_delay, initial * multiplier**k)``.
    If every shop in town uses the same schedule, their calls arrive together, so each
    delay is also jittered with randomness:

    - ``None``: no jitter, exactly the base delays;
    - ``"full"``: uniform in ``[0, d]`` (the AWS recommendation, and the default);
    - ``"equal"``: uniform in ``[d/2, d]``;
    - ``"decorrelated"``: uniform in ``[initial, min(max_delay, 3 * previous)]``, where
      *previous* is the delay drawn before (``initial`` for the first); the base delays
      are not used;
    - a float ``f`` in ``(0, 1]``: uniform in ``[d * (1 - f), d * (1 + f)]``, i.e. ±f
      (``0.25`` is the classic ±25 %); this may exceed ``max_delay`` by up to ``f``.

    A `Backoff` is an immutable description; :meth:`delays` makes a fresh sequence each
    time, so one `Backoff` can serve any number of concurrent retry loops.

    Example::

        backoff = trioshop.Backoff(initial=0.5, multiplier=2, max_delay=8, jitter=None)
        list(itertools.islice(backoff.delays(), 6))   # [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]

    Args:
        initial: the first base delay in seconds, ``>= 0`` and finite.
        multiplier: the growth factor per try, ``>= 1`` and finite.
        max_delay: the cap on base delays, ``>= initial`` (``math.inf`` allowed).
        jitter: ``None``, ``"full"``, ``"equal"``, ``"decorrelated"`` or a float in
            ``(0, 1]``.

    Raises:
        ValueError: a value is out of range, NaN, or ``jitter`` is not one of the above.
        TypeError: a number is not a number.

    .. versionadded:: 0.1
    """

    initial: float = attrs.field(default=0.1, kw_only=True)
    multiplier: float = attrs.field(default=2.0, kw_only=True)
    max_delay: float = attrs.field(default=10.0, kw_only=True)
    jitter: Literal["full", "equal", "decorrelated"] | float | None = attrs.field(
        default="full", kw_only=True
    )

    def __attrs_post_init__(self) -> None:
        # Frozen: validated values are written back with object.__setattr__.
        initial = check_float("initial", self.initial, minimum=0, allow_inf=False)
        multiplier = check_float("multiplier", self.multiplier, minimum=1, allow_inf=False)
        max_delay = check_float("max_delay", self.max_delay)
        if max_delay < initial:
            raise ValueError(f"max_delay must be >= initial ({initial:g}), got {max_delay!r}")
        object.__setattr__(self, "initial", initial)
        object.__setattr__(self, "multiplier", multiplier)
        object.__setattr__(self, "max_delay", max_delay)
        object.__setattr__(self, "jitter", _check_jitter(self.jitter))

    def base_delays(self) -> Iterator[float]:
        """The delays before jitter, forever: ``min(max_delay, initial * multiplier**k)``."""
        k = 0
        while True:
            try:
                delay = self.initial * self.multiplier**k
            except OverflowError:
                # multiplier**k alone is too big for a float; the product may not be
                # (0 stays 0, a tiny initial may still be short of max_delay).
                delay = _product_of_powers(self.initial, self.multiplier, k)
            if delay >= self.max_delay:
                break
            yield delay
            k += 1
        while True:  # capped from here on (multiplier >= 1: it never comes down)
            yield self.max_delay

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """Yield the delays to sleep between tries, forever, jitter applied.

        Args:
            rng: where the randomness comes from; pass a seeded `random.Random` for a
                reproducible sequence. Default: a new, OS-seeded `random.Random`.
        """
        if rng is None:
            rng = random.Random()
        jitter = self.jitter
        if jitter == "decorrelated":
            previous = self.initial
            while True:
                previous = rng.uniform(self.initial, min(self.max_delay, 3 * previous))
                yield previous
        for base in self.base_delays():
            if jitter is None:
                yield base
            elif jitter == "full":
                yield rng.uniform(0, base)
            elif jitter == "equal":
                yield rng.uniform(base / 2, base)
            else:
                assert isinstance(jitter, float)
                yield base * rng.uniform(1 - jitter, 1 + jitter)


def _product_of_powers(initial: float, multiplier: float, k: int) -> float:
    """``initial * multiplier**k`` when ``multiplier**k`` overflows (``math.inf`` if the
    product does too)."""
    if initial == 0:
        return 0.0
    try:
        return math.exp(math.log(initial) + k * math.log(multiplier))
    except OverflowError:
        return math.inf


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc


def _check_retry_on(retry_on: object) -> typing.Callable[[BaseException], bool]:
    """Turn ``retry_on`` into a predicate on one (leaf) exception."""
    if isinstance(retry_on, type) and issubclass(retry_on, BaseException):
        types: tuple[type[BaseException], ...] = (retry_on,)
    elif isinstance(retry_on, tuple) and all(
        isinstance(t, type) and issubclass(t, BaseException) for t in retry_on
    ):
        types = retry_on
    elif callable(retry_on) and not isinstance(retry_on, type | tuple):
        return typing.cast("typing.Callable[[BaseException], bool]", retry_on)
    else:
        raise TypeError(
            f"retry_on must be an exception type, a tuple of them or a predicate, got {retry_on!r}"
        )
    return lambda exc: isinstance(exc, types)


def _is_retryable(exc: BaseException, matches: typing.Callable[[BaseException], bool]) -> bool:
    """Retry only if every leaf is an ordinary `Exception` that ``retry_on`` accepts.

    `trio.Cancelled` (and any other `BaseException` leaf) is never retried.
    """
    return all(isinstance(leaf, Exception) and matches(leaf) for leaf in _leaves(exc))


async def retry(
    fn: Callable[[*Ts], Awaitable[R]],
    *args: *Ts,
    attempts: int = 3,
    backoff: Backoff = Backoff(),
    retry_on: RetryOn = Exception,
    rng: random.Random | None = None,
    on_retry: Callable[[int, BaseException, float], object] | None = None,
) -> R:
    """Call ``await fn(*args)`` until it succeeds, up to ``attempts`` times.

    When the milk delivery does not come, the shop calls the dairy again, waiting a
    little longer each time (see `Backoff`), and gives up after ``attempts`` calls. It
    does not keep calling once the shop is closing: if the next wait would end at or
    after the enclosing cancel scope's deadline, it stops at once, without sleeping,
    and raises the last failure.

    Between tries it sleeps the next delay of ``backoff.delays(rng)``. An exception is
    retried only if ``retry_on`` accepts it; an exception group is retried only if
    ``retry_on`` accepts every one of its leaves. `trio.Cancelled` (and any other
    exception that is not an `Exception`) is never retried and propagates at once.

    When ``retry`` gives up, it raises the last exception itself, with a note
    (:pep:`678`) listing every attempt: when it failed (counted from the first
    failure), what it raised, and how long ``retry`` waited after it.

    Example::

        milk = await trioshop.retry(
            dairy.deliver, "2 crates", attempts=5,
            backoff=trioshop.Backoff(initial=1, jitter="full"),
            retry_on=(ConnectionError, TimeoutError),
        )

    Checkpoints: the first try adds no checkpoint of its own, so ``retry(fn)`` is a
    checkpoint exactly when ``fn`` is, and a first-time success costs almost nothing
    more than ``fn`` (about 0.9x its throughput for a call that does one checkpoint).
    The sleeps between tries are checkpoints. Cancelling ``retry`` cancels the
    running try or the sleep, and `trio.Cancelled` propagates, never retried.

    Args:
        fn: the async function to call.
        *args: positional arguments for ``fn``.
        attempts: the most calls to make, ``>= 1``.
        backoff: the delays between tries.
        retry_on: an exception type, a tuple of them, or a predicate
            ``retry_on(exc) -> bool``, applied to each leaf of an exception group.
        rng: the randomness for the jitter (see :meth:`Backoff.delays`).
        on_retry: ``on_retry(attempt, exc, delay)`` is called synchronously before each
            sleep: ``attempt`` (from 1) failed with ``exc`` and the next try starts in
            ``delay`` seconds. It is never called after the last failure.

    Returns:
        What ``fn`` returned.

    Raises:
        ValueError: ``attempts`` is not ``>= 1``.
        TypeError: ``fn`` is not an async function, or ``retry_on``, ``backoff`` or
            ``on_retry`` has the wrong type.

    .. versionadded:: 0.1
    """
    # Written for speed: a first-time success must cost next to nothing, so the
    # defaults are recognised in one test and anything else is checked in full.
    code = getattr(fn, "__code__", None)  # async def functions and methods: fast path
    if code is None or not code.co_flags & _CO_COROUTINE:
        check_async_callable("fn", fn)
    if not (
        type(attempts) is int
        and attempts >= 1
        and type(backoff) is Backoff  # type: ignore[redundant-expr]  # (callers may be untyped)
        and retry_on is Exception
        and on_retry is None
        and rng is None
    ):
        _check_options(attempts, backoff, retry_on, on_retry, rng)
    # No checkpoint of our own before the first try: retry is exactly as much a
    # checkpoint as fn is (see the docstring), and costs next to nothing more.
    try:
        return await fn(*args)
    except BaseException as exc:
        failure = exc
    return await _try_again(
        fn, args, failure, attempts, backoff, _check_retry_on(retry_on), rng, on_retry
    )


def _check_options(
    attempts: object, backoff: object, retry_on: object, on_retry: object, rng: object
) -> None:
    check_int("attempts", attempts, minimum=1)
    if not isinstance(backoff, Backoff):
        raise TypeError(f"backoff must be a trioshop.Backoff, got {backoff!r}")
    _check_retry_on(retry_on)
    if on_retry is not None and not callable(on_retry):
        raise TypeError(f"on_retry must be callable or None, got {on_retry!r}")
    if rng is not None and not isinstance(rng, random.Random):
        raise TypeError(f"rng must be a random.Random or None, got {rng!r}")


async def _try_again(
    fn: Callable[[*Ts], Awaitable[R]],
    args: tuple[*Ts],
    failure: BaseException,
    attempts: int,
    backoff: Backoff,
    matches: typing.Callable[[BaseException], bool],
    rng: random.Random | None,
    on_retry: Callable[[int, BaseException, float], object] | None,
) -> R:
    """The slow path of `retry`, after the first attempt failed with *failure*."""
    delays: Iterator[float] | None = None
    history: list[str] = []
    first_failed = trio.current_time()
    attempt = 1
    while True:
        now = trio.current_time()
        line = f"  attempt {attempt} failed at +{now - first_failed:.3f}s: {failure!r}"
        if not _is_retryable(failure, matches):
            if history and isinstance(failure, Exception):  # after retryable failures
                history.append(line)
                failure.add_note(_summary(attempt, attempts, history, "not retryable"))
            raise failure
        if attempt == attempts:
            history.append(line)
            failure.add_note(_summary(attempt, attempts, history, "no attempts left"))
            raise failure
        if delays is None:
            delays = backoff.delays(rng)
        delay = next(delays)
        if now + delay >= trio.current_effective_deadline():
            history.append(f"{line}; the next delay, {delay:.3f}s, would pass the deadline")
            failure.add_note(_summary(attempt, attempts, history, "deadline"))
            raise failure
        history.append(f"{line}; retried after {delay:.3f}s")
        if on_retry is not None:
            on_retry(attempt, failure, delay)
        await trio.sleep(delay)
        attempt += 1
        try:
            return await fn(*args)
        except BaseException as exc:
            failure = exc


def _summary(attempt: int, attempts: int, history: list[str], why: str) -> str:
    head = (
        f"trioshop.retry gave up after {attempt} of {attempts} attempts ({why}); "
        "times from the first failure:"
    )
    return "\n".join([head, *history])
