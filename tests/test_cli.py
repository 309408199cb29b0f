"""The ``trioshop`` command (the rush-hour demo)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import trio
import trio.testing

from trioshop._cli import RushHourConfig, RushHourReport, format_report, main, rush_hour


def run_rush(config: RushHourConfig) -> RushHourReport:
    return trio.run(rush_hour, config, clock=trio.testing.MockClock(autojump_threshold=0))


@pytest.mark.parametrize(
    "config",
    [
        RushHourConfig(),
        RushHourConfig(baristas=1, queue_size=0, customers=50, seed=3),
        RushHourConfig(baristas=8, queue_size=20, customers=100, patience=30, seed=5),
        RushHourConfig(customers=0),
    ],
)
def test_rush_hour_accounts_for_every_customer(config: RushHourConfig) -> None:
    report = run_rush(config)
    assert report.arrived == config.customers
    assert report.arrived == (
        report.served + report.rejected + report.turned_away + report.cancelled + report.failed
    )
    assert 0.0 <= report.utilisation <= 1.0
    assert len(report.waits) <= report.served + report.failed + report.cancelled


def test_rush_hour_is_deterministic_for_a_seed() -> None:
    first = format_report(run_rush(RushHourConfig(seed=11)))
    assert first == format_report(run_rush(RushHourConfig(seed=11)))
    assert first != format_report(run_rush(RushHourConfig(seed=12)))


def test_rush_hour_more_baristas_serve_more() -> None:
    few = run_rush(RushHourConfig(baristas=2, seed=4))
    many = run_rush(RushHourConfig(baristas=6, seed=4))
    assert many.served > few.served
    assert many.rejected + many.cancelled < few.rejected + few.cancelled


def test_main_prints_the_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--customers", "30", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "trioshop rush hour: 3 baristas" in out
    for label in ("served", "rejected", "turned away", "cancelled", "failed", "wait"):
        assert label in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--baristas", "0"], "baristas must be >= 1, got 0"),
        (["--queue-size", "-1"], "queue-size must be >= 0, got -1"),
        (["rush-hour", "--minutes", "0"], "minutes must be > 0, got 0.0"),
        (["--patience", "nan"], "patience must not be NaN"),
        (["--baristas", "many"], "invalid int value"),
    ],
)
def test_main_rejects_bad_arguments(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_python_dash_m_trioshop_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "trioshop", "--customers", "20"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "served" in result.stdout


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("baristas", 0, ValueError),
        ("queue_size", -1, ValueError),
        ("customers", -5, ValueError),
        ("hiccup_rate", 1.5, ValueError),
        ("impatient_share", -0.1, ValueError),
        ("baristas", "3", TypeError),
    ],
)
def test_RushHourConfig_validates(field: str, value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=field):
        RushHourConfig(**{field: value})  # type: ignore[arg-type]
