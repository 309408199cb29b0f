"""Checked by ``mypy --strict`` in CI (never run): the shop's generic types infer."""

from __future__ import annotations

from typing import assert_type

import outcome

import trioshop


async def brew(order: str) -> int:
    return len(order)


async def check() -> None:
    async with trioshop.open_shop(brew, baristas=2) as shop:
        assert_type(shop, trioshop.Shop[str, int])
        ticket = await shop.place_order("latte")
        assert_type(ticket, trioshop.Ticket[int])
        assert_type(shop.try_place_order("mocha"), trioshop.Ticket[int])
        assert_type(await ticket.result(), int)
        assert_type(ticket.outcome(), outcome.Outcome[int])
        assert_type(shop.statistics(), trioshop.ShopStatistics)
        await shop.place_order(3)  # type: ignore[arg-type]
