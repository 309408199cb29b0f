"""Helpers shared by the pipeline and channel tests."""

from __future__ import annotations

import trio


def task_count() -> int:
    """How many tasks exist in the current Trio run (the root task included)."""
    count = 0
    stack = [trio.lowlevel.current_root_task()]
    while stack:
        task = stack.pop()
        count += 1
        for nursery in task.child_nurseries:
            stack.extend(nursery.child_tasks)
    return count
