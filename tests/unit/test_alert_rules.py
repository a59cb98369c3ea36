"""The alert rules file is valid Prometheus and each alert fires when it should.

Needs ``promtool`` (Debian's ``prometheus`` package; ``./dev setup`` installs it where
it can): without it this test fails and says so, rather than passing unchecked.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

OPS = Path(__file__).resolve().parents[2] / "docs" / "ops"


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail(
            "promtool is not installed: `./dev setup` (as root with apt) or "
            "`apt-get install prometheus` provides /usr/bin/promtool"
        )
    return found


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *args], cwd=OPS, capture_output=True, text=True, timeout=60, check=False
    )


def test_alert_rules_are_valid() -> None:
    result = run("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 rules found" in result.stdout


def test_alert_rules_fire_on_their_series_only() -> None:
    result = run("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
