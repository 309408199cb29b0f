"""Pin the public surface: adding or removing a public name is a deliberate act."""

from __future__ import annotations

import inspect

import trioshop

PUBLIC = {
    "OrderCancelled",
    "QueueFull",
    "ShopClosed",
    "TrioshopError",
    # the shop
    "Shop",
    "ShopStatistics",
    "Ticket",
    "open_shop",
    # Shared equipment (issue #3)
    "Once",
    "OnceStatistics",
    "RWLock",
    "RWLockStatistics",
    "WeightedSemaphore",
    "WeightedSemaphoreStatistics",
    # Pipelines (issue #4)
    "Stage",
    "gather",
    "merge",
    "open_pipeline",
    # When things break (issue #5)
    "Backoff",
    "BreakerState",
    "CircuitBreaker",
    "CircuitBreakerStatistics",
    "CircuitOpen",
    "TokenBucket",
    "TokenBucketStatistics",
    "retry",
}


def test_public_names_are_pinned() -> None:
    exported = {name for name in dir(trioshop) if not name.startswith("_")}
    assert exported == PUBLIC


def test_public_names_claim_the_package() -> None:
    for name in PUBLIC:
        obj = getattr(trioshop, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__module__ == "trioshop", name


def test_public_names_have_docstrings() -> None:
    for name in PUBLIC:
        assert inspect.getdoc(getattr(trioshop, name)), name
