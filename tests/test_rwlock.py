"""Tests for `trioshop.RWLock`.

Property tests run each example on Trio's virtual clock with ``trio.run(...,
clock=MockClock(autojump_threshold=0))``. Importing Hypothesis makes Trio's scheduler
draw its batch order from a Hypothesis-controlled random source, so each example also
explores (and can shrink) a different interleaving of the tasks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from trioshop import RWLock, RWLockStatistics

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

wait_all_tasks_blocked = trio.testing.wait_all_tasks_blocked


async def _hold_read(lock: RWLock, log: list[str], name: str, release: trio.Event) -> None:
    async with lock.read():
        log.append(name)
        await release.wait()


async def _hold_write(lock: RWLock, log: list[str], name: str, release: trio.Event) -> None:
    async with lock.write():
        log.append(name)
        await release.wait()


# -- misuse ----------------------------------------------------------------------------


async def _acquire(lock: RWLock, how: str) -> None:
    if how == "read":
        await lock.acquire_read()
    elif how == "write":
        await lock.acquire_write()
    elif how == "read_nowait":
        lock.acquire_read_nowait()
    else:
        lock.acquire_write_nowait()


@pytest.mark.parametrize(
    ("held", "again", "match"),
    [
        ("read", "read", "already holds the RWLock for reading"),
        ("read", "read_nowait", "already holds the RWLock for reading"),
        ("read", "write", "already holds the RWLock for reading .*cannot be upgraded"),
        ("read", "write_nowait", "already holds the RWLock for reading .*cannot be upgraded"),
        ("write", "write", "already holds the RWLock for writing"),
        ("write", "write_nowait", "already holds the RWLock for writing"),
        ("write", "read", "already holds the RWLock for writing"),
        ("write", "read_nowait", "already holds the RWLock for writing"),
    ],
)
async def test_RWLock_acquiring_what_the_task_holds_raises(
    held: str, again: str, match: str
) -> None:
    lock = RWLock()
    await _acquire(lock, held)
    before = lock.statistics()
    with pytest.raises(RuntimeError, match=match), trio.testing.assert_no_checkpoints():
        await _acquire(lock, again)
    assert lock.statistics() == before
    if held == "read":
        lock.release_read()
    else:
        lock.release_write()
    assert lock.statistics() == RWLockStatistics(0, None, 0, 0)


@pytest.mark.parametrize(
    ("held", "release", "match"),
    [
        (None, "read", "does not hold the RWLock for reading"),
        (None, "write", "does not hold the RWLock for writing"),
        ("read", "write", "does not hold the RWLock for writing"),
        ("write", "read", "does not hold the RWLock for reading"),
    ],
)
async def test_RWLock_releasing_what_the_task_does_not_hold_raises(
    held: str | None, release: str, match: str
) -> None:
    lock = RWLock()
    if held is not None:
        await _acquire(lock, held)
    before = lock.statistics()
    with pytest.raises(RuntimeError, match=match):
        lock.release_read() if release == "read" else lock.release_write()
    assert lock.statistics() == before


async def test_RWLock_release_by_another_task_raises() -> None:
    lock = RWLock()
    await lock.acquire_write()
    errors: list[str] = []

    async def intruder() -> None:
        for release in (lock.release_write, lock.release_read):
            try:
                release()
            except RuntimeError as exc:
                errors.append(str(exc))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(intruder)
    assert errors == [
        "this task does not hold the RWLock for writing",
        "this task does not hold the RWLock for reading",
    ]
    assert lock.statistics().writer is trio.lowlevel.current_task()
    lock.release_write()


# -- basics ------------------------------------------------------------------------------


async def test_RWLock_many_readers_or_one_writer() -> None:
    lock = RWLock()
    assert repr(lock) == "<trioshop.RWLock unlocked, 0 readers and 0 writers waiting>"
    log: list[str] = []
    release = trio.Event()
    async with trio.open_nursery() as nursery:
        for name in ("r1", "r2", "r3"):
            nursery.start_soon(_hold_read, lock, log, name, release)
        await wait_all_tasks_blocked()
        assert sorted(log) == ["r1", "r2", "r3"]
        assert lock.statistics() == RWLockStatistics(3, None, 0, 0)
        assert repr(lock) == "<trioshop.RWLock read-locked by 3, 0 readers and 0 writers waiting>"
        with pytest.raises(trio.WouldBlock):
            lock.acquire_write_nowait()
        release.set()
    async with lock.write():
        stats = lock.statistics()
        assert stats == RWLockStatistics(0, trio.lowlevel.current_task(), 0, 0)
        assert repr(lock).startswith("<trioshop.RWLock write-locked")

        async def try_both() -> None:
            for attempt in (lock.acquire_read_nowait, lock.acquire_write_nowait):
                with pytest.raises(trio.WouldBlock):
                    attempt()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(try_both)
    assert lock.statistics() == RWLockStatistics(0, None, 0, 0)
    lock.acquire_read_nowait()
    lock.release_read()
    lock.acquire_write_nowait()
    lock.release_write()


async def test_RWLock_releases_on_error() -> None:
    lock = RWLock()

    async def fail(cm_name: str) -> None:
        async with getattr(lock, cm_name)():
            raise KeyError(cm_name)

    for cm_name in ("read", "write"):
        with pytest.raises(KeyError):
            await fail(cm_name)
        assert lock.statistics() == RWLockStatistics(0, None, 0, 0)


async def test_RWLock_checkpoints() -> None:
    lock = RWLock()
    with trio.testing.assert_checkpoints():
        await lock.acquire_read()
    with trio.testing.assert_no_checkpoints():
        lock.release_read()
        lock.acquire_read_nowait()
        lock.release_read()
        lock.acquire_write_nowait()
        lock.release_write()
        lock.statistics()
    with trio.testing.assert_checkpoints():
        await lock.acquire_write()
    lock.release_write()
    for cm in (lock.read(), lock.write()):
        with trio.testing.assert_checkpoints():
            await cm.__aenter__()
        with trio.testing.assert_no_checkpoints():
            await cm.__aexit__(None, None, None)


async def test_RWLock_already_cancelled_caller_fails_even_when_free() -> None:
    lock = RWLock()
    with trio.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(trio.Cancelled):
            await lock.acquire_read()
        with pytest.raises(trio.Cancelled):
            await lock.acquire_write()
    assert lock.statistics() == RWLockStatistics(0, None, 0, 0)


# -- writer preference ---------------------------------------------------------------------


async def test_RWLock_waiting_writer_holds_back_new_readers() -> None:
    lock = RWLock()
    log: list[str] = []
    r1, w, r2 = trio.Event(), trio.Event(), trio.Event()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_hold_read, lock, log, "r1", r1)
        await wait_all_tasks_blocked()
        nursery.start_soon(_hold_write, lock, log, "w", w)
        await wait_all_tasks_blocked()
        nursery.start_soon(_hold_read, lock, log, "r2", r2)
        await wait_all_tasks_blocked()
        assert log == ["r1"]  # the lock is only read-held, yet r2 waits behind w
        assert lock.statistics() == RWLockStatistics(1, None, 1, 1)
        with pytest.raises(trio.WouldBlock):
            lock.acquire_read_nowait()
        r1.set()
        await wait_all_tasks_blocked()
        assert log == ["r1", "w"]
        w.set()
        await wait_all_tasks_blocked()
        assert log == ["r1", "w", "r2"]
        r2.set()


async def test_RWLock_waiting_readers_go_in_together_before_the_next_writer() -> None:
    lock = RWLock()
    log: list[str] = []
    releases = {name: trio.Event() for name in ("w1", "ra", "rb", "w2", "rc")}
    async with trio.open_nursery() as nursery:
        for name in ("w1", "ra", "rb", "w2", "rc"):
            hold = _hold_write if name.startswith("w") else _hold_read
            nursery.start_soon(hold, lock, log, name, releases[name])
            await wait_all_tasks_blocked()
        assert log == ["w1"]
        assert lock.statistics().readers_waiting == 3
        assert lock.statistics().writers_waiting == 1
        releases["w1"].set()
        await wait_all_tasks_blocked()
        # every reader waiting when w1 released, rc (who came after w2) included
        assert sorted(log[1:]) == ["ra", "rb", "rc"]
        assert lock.statistics() == RWLockStatistics(3, None, 0, 1)
        for name in ("ra", "rb"):
            releases[name].set()
        await wait_all_tasks_blocked()
        assert "w2" not in log
        releases["rc"].set()
        await wait_all_tasks_blocked()
        assert log[-1] == "w2"
        releases["w2"].set()
    assert lock.statistics() == RWLockStatistics(0, None, 0, 0)


async def test_RWLock_cancelled_waiting_writer_lets_held_back_readers_in() -> None:
    lock = RWLock()
    log: list[str] = []
    r1, r2, r3 = trio.Event(), trio.Event(), trio.Event()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_hold_read, lock, log, "r1", r1)
        await wait_all_tasks_blocked()
        writer_scope = trio.CancelScope()

        async def writer() -> None:
            with writer_scope:
                await lock.acquire_write()
            log.append("writer gave up")

        nursery.start_soon(writer)
        await wait_all_tasks_blocked()
        nursery.start_soon(_hold_read, lock, log, "r2", r2)
        nursery.start_soon(_hold_read, lock, log, "r3", r3)
        await wait_all_tasks_blocked()
        assert log == ["r1"]
        # r1 still reads: only the cancellation can let r2 and r3 in
        writer_scope.cancel()
        await wait_all_tasks_blocked()
        assert sorted(log) == ["r1", "r2", "r3", "writer gave up"]
        assert lock.statistics() == RWLockStatistics(3, None, 0, 0)
        for event in (r1, r2, r3):
            event.set()


async def test_RWLock_cancelled_writer_keeps_readers_back_while_another_writer_waits() -> None:
    lock = RWLock()
    log: list[str] = []
    events = {name: trio.Event() for name in ("r1", "w2", "r2")}
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_hold_read, lock, log, "r1", events["r1"])
        await wait_all_tasks_blocked()
        scope = trio.CancelScope()

        async def writer() -> None:
            with scope:
                await lock.acquire_write()

        nursery.start_soon(writer)
        await wait_all_tasks_blocked()
        nursery.start_soon(_hold_write, lock, log, "w2", events["w2"])
        await wait_all_tasks_blocked()
        nursery.start_soon(_hold_read, lock, log, "r2", events["r2"])
        await wait_all_tasks_blocked()
        scope.cancel()
        await wait_all_tasks_blocked()
        assert log == ["r1"]
        assert lock.statistics() == RWLockStatistics(1, None, 1, 1)
        events["r1"].set()
        await wait_all_tasks_blocked()
        assert log == ["r1", "w2"]
        events["w2"].set()
        await wait_all_tasks_blocked()
        assert log == ["r1", "w2", "r2"]
        events["r2"].set()


async def test_RWLock_cancelled_waiter_leaves_no_trace() -> None:
    lock = RWLock()
    await lock.acquire_write()

    async def waiter(scope: trio.CancelScope, acquire: Callable[[], Awaitable[None]]) -> None:
        with scope:
            await acquire()

    async with trio.open_nursery() as nursery:
        for acquire in (lock.acquire_read, lock.acquire_write):
            scope = trio.CancelScope()
            nursery.start_soon(waiter, scope, acquire)
            await wait_all_tasks_blocked()
            scope.cancel()
            await wait_all_tasks_blocked()
            assert lock.statistics() == RWLockStatistics(0, trio.lowlevel.current_task(), 0, 0)
    lock.release_write()
    assert lock.statistics() == RWLockStatistics(0, None, 0, 0)


async def test_RWLock_writer_is_not_starved_by_readers(
    autojump_clock: trio.testing.MockClock,
) -> None:
    lock = RWLock()
    wrote_at: list[float] = []

    async def reader_forever(offset: float) -> None:
        await trio.sleep(offset)
        while True:
            async with lock.read():
                await trio.sleep(1)

    async def writer() -> None:
        async with lock.write():
            wrote_at.append(trio.current_time())

    async with trio.open_nursery() as nursery:
        for i in range(5):
            nursery.start_soon(reader_forever, i * 0.3)
        await trio.sleep(2)
        nursery.start_soon(writer)
        await trio.sleep(10)
        nursery.cancel_scope.cancel()
    # readers overlap, so the lock is never free; the writer still gets in once the
    # readers inside (at most 1s each) are done
    assert len(wrote_at) == 1
    assert wrote_at[0] <= 3.0


# -- properties ----------------------------------------------------------------------------

_users = st.lists(
    st.tuples(
        st.booleans(),  # writer?
        st.integers(0, 4),  # arrival, tenths of a second
        st.integers(0, 4),  # hold time, tenths
        st.none() | st.integers(0, 4),  # patience, tenths (None: waits forever)
        st.booleans(),  # try the _nowait form first
    ),
    max_size=12,
)


@given(users=_users)
def test_RWLock_property_never_a_writer_with_readers(
    users: list[tuple[bool, int, int, int | None, bool]],
) -> None:
    async def main() -> None:
        lock = RWLock()
        readers = writers = 0
        outcomes: dict[int, str] = {}

        def check() -> None:
            stats = lock.statistics()
            assert writers <= 1
            assert not (writers and readers)
            assert readers <= stats.readers
            assert writers <= (stats.writer is not None)
            assert not (stats.writer is not None and stats.readers)
            # whoever could enter now is not left waiting
            if stats.writer is None and stats.readers == 0:
                assert stats.writers_waiting == 0
            if stats.writer is None and stats.writers_waiting == 0:
                assert stats.readers_waiting == 0

        async def user(
            i: int, writer: bool, arrival: int, hold: int, patience: int | None, try_first: bool
        ) -> None:
            nonlocal readers, writers
            await trio.sleep(arrival / 10)
            got = False
            if try_first:
                try:
                    lock.acquire_write_nowait() if writer else lock.acquire_read_nowait()
                    got = True
                except trio.WouldBlock:
                    pass
            if not got:
                with trio.move_on_after(float("inf") if patience is None else patience / 10):
                    await (lock.acquire_write() if writer else lock.acquire_read())
                    got = True
            if not got:
                assert patience is not None
                outcomes[i] = "cancelled"
                check()
                return
            if writer:
                writers += 1
            else:
                readers += 1
            check()
            await trio.sleep(hold / 10)
            if writer:
                writers -= 1
                lock.release_write()
            else:
                readers -= 1
                lock.release_read()
            outcomes[i] = "served"
            check()

        with trio.fail_after(1000):  # a lost wake-up shows as a timeout, not a hang
            async with trio.open_nursery() as nursery:
                for i, u in enumerate(users):
                    nursery.start_soon(user, i, *u)
        assert sorted(outcomes) == list(range(len(users)))
        for i, u in enumerate(users):
            if u[3] is None:
                assert outcomes[i] == "served"
        assert lock.statistics() == RWLockStatistics(0, None, 0, 0)

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
