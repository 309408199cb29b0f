"""Checked by ``mypy --strict`` in CI (never run): the pipeline helpers' types infer."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, assert_type

import trio

import trioshop


async def shot() -> str:
    return "espresso"


async def milk() -> str:
    return "steamed milk"


async def double(x: int) -> int:
    return 2 * x


async def check() -> None:
    assert_type(await trioshop.gather(shot, milk), list[str])
    _, shots = trio.open_memory_channel[str](0)
    _, jugs = trio.open_memory_channel[str](0)
    async with trioshop.merge(shots, jugs) as counter:
        assert_type(counter, trio.MemoryReceiveChannel[str])
    pipeline = trioshop.open_pipeline(range(3), double, trioshop.Stage(double, workers=2))
    assert_type(pipeline, AbstractAsyncContextManager[trio.MemoryReceiveChannel[Any]])
    trioshop.open_pipeline(range(3), errors="ignore")  # type: ignore[arg-type]
    trioshop.Stage(double, run_in="gpu")  # type: ignore[arg-type]
