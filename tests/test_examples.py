"""Every example runs: each ``examples/[!_]*.py`` in a subprocess, in virtual time.

The list is found by glob, so an example added later is covered without touching this
file. An example fails here if it exits non-zero (an exception, or a ``SystemExit`` from
one of its own checks), prints nothing, emits a warning, or takes over a minute.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("[!_]*.py"))


def test_examples_are_found() -> None:
    # The README points at worker_pool.py; an empty glob would make the test below vacuous.
    assert EXAMPLES_DIR / "worker_pool.py" in EXAMPLES


@pytest.mark.parametrize("example", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_runs(example: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-W", "error", str(example)],
        cwd=EXAMPLES_DIR,
        env=env,
        capture_output=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"{example.name} failed:\n{result.stdout}\n{result.stderr}"
    assert result.stdout.strip(), f"{example.name} printed nothing"
