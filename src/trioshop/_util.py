"""Small helpers shared by every module: argument checks and class plumbing.

Error messages follow one rule (STYLE.md): lowercase start, the exact parameter name, the
rule, the value, no final period: ``baristas must be >= 1, got 0``.
"""

from __future__ import annotations

import functools
import inspect
import math
from typing import Any, NoReturn, TypeVar

T = TypeVar("T")


def _type_error(name: str, expected: str, value: object) -> NoReturn:
    raise TypeError(f"{name} must be {expected}, got {value!r}")


def check_int(name: str, value: object, *, minimum: int) -> int:
    """Return *value* if it is an ``int`` (not a ``bool``) ``>= minimum``, else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        _type_error(name, "an int", value)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return value


def check_float(
    name: str,
    value: object,
    *,
    minimum: float | None = None,
    strictly_above: float | None = None,
    allow_inf: bool = True,
) -> float:
    """Return *value* as a ``float`` if it is a real number in range, else raise.

    NaN is never valid. ``minimum`` is inclusive, ``strictly_above`` exclusive.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        _type_error(name, "a number", value)
    try:
        result = float(value)
    except OverflowError:  # an int beyond the float range: infinite, for our purposes
        result = math.inf if value > 0 else -math.inf
    if math.isnan(result):
        raise ValueError(f"{name} must not be NaN")
    if not allow_inf and math.isinf(result):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if minimum is not None and result < minimum:
        raise ValueError(f"{name} must be >= {minimum:g}, got {value!r}")
    if strictly_above is not None and result <= strictly_above:
        raise ValueError(f"{name} must be > {strictly_above:g}, got {value!r}")
    return result


def is_async_callable(fn: object) -> bool:
    """True if calling *fn* returns a coroutine: ``async def`` functions, methods,
    ``functools.partial`` objects of them, and objects with an ``async def __call__``."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(type(fn), "__call__", None)  # noqa: B004 (we want the dunder itself)
    return call is not None and inspect.iscoroutinefunction(call)


def check_async_callable(name: str, fn: object) -> None:
    """Raise ``TypeError`` unless *fn* is an async callable (see `is_async_callable`)."""
    if not callable(fn):
        _type_error(name, "an async callable", fn)
    if inspect.isasyncgenfunction(fn):
        raise TypeError(
            f"{name} must be an async function, got the async generator function {fn!r}"
        )
    if not is_async_callable(fn):
        raise TypeError(
            f"{name} must be an async function (async def), got {fn!r}; "
            "wrap a sync function or a lambda in an async def"
        )


def fix_module(namespace: dict[str, Any], module: str = "trioshop") -> None:
    """Make reprs, tracebacks and docs of the public names say ``trioshop.X``.

    Called at the end of a public ``__init__`` with ``globals()``: every public class and
    function defined in a private ``trioshop._x`` module gets ``__module__`` set to
    *module*.
    """
    for name, obj in namespace.items():
        if name.startswith("_"):
            continue
        mod = getattr(obj, "__module__", None)
        # Only rewrite names that come from a private module of ours.
        if (
            isinstance(mod, str)
            and mod.startswith("trioshop.")
            and (inspect.isclass(obj) or inspect.isfunction(obj))
            and any(part.startswith("_") for part in mod.split(".")[1:])
        ):
            obj.__module__ = module


class NoPublicConstructor(type):
    """Metaclass for objects handed out by a factory (tickets, leases).

    ``Cls(...)`` raises ``TypeError``; trioshop itself builds instances with
    ``Cls._create(...)``.
    """

    def __call__(cls, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError(f"{cls.__module__}.{cls.__qualname__} has no public constructor")

    def _create(cls: type[T], *args: object, **kwargs: object) -> T:
        return super().__call__(*args, **kwargs)  # type: ignore[misc, no-any-return]
