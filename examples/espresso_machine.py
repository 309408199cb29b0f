"""The espresso machine: a ``trio.Lock`` (Part 2 of the Go coffee-shop guide: mutexes).

Five baristas each pull four shots and tally them on the shared shot counter. The tally
reads the counter, spends a moment writing it down (an ``await``), then writes the new
value back. Without the lock, the read and the write can be interleaved with another
barista's, and shots go missing; with the espresso machine's lock around the tally,
every shot is counted.

What to notice: the unsafe counter ends below 20 even though Trio runs one task at a
time: the race happens *across an await*, exactly where Go's data race would be. Trio's
``Lock`` also raises if a task takes it twice (Go's ``sync.Mutex`` deadlocks) or
releases it without holding it (Go lets any goroutine unlock any mutex).
"""

from __future__ import annotations

import trio

from _runner import run, stamp

BARISTAS = 5
SHOTS_EACH = 4


class Counter:
    def __init__(self) -> None:
        self.shots = 0


async def pull_shots(name: str, counter: Counter, machine: trio.Lock | None, lap: float) -> None:
    for _ in range(SHOTS_EACH):
        await trio.sleep(lap)  # pulling a shot takes a moment
        if machine is None:
            seen = counter.shots
            await trio.sleep(0.01)  # writing it down: another barista may run here
            counter.shots = seen + 1
        else:
            async with machine:
                seen = counter.shots
                await trio.sleep(0.01)
                counter.shots = seen + 1


async def main() -> None:
    for title, machine in (
        ("without a lock", None),
        ("with the espresso machine's lock", trio.Lock()),
    ):
        counter = Counter()
        async with trio.open_nursery() as nursery:
            for i in range(BARISTAS):
                nursery.start_soon(pull_shots, f"barista {i}", counter, machine, 0.1 + 0.01 * i)
        expected = BARISTAS * SHOTS_EACH
        verdict = "every shot counted" if counter.shots == expected else "shots lost!"
        print(f"{stamp()} {title}: counted {counter.shots} of {expected} shots ({verdict})")

    machine = trio.Lock()
    async with machine:
        try:
            await machine.acquire()
        except RuntimeError as exc:
            print(f"{stamp()} taking the machine twice raises instead of deadlocking: {exc}")


if __name__ == "__main__":
    run(main, "the espresso machine: a trio.Lock, and the race it prevents")
