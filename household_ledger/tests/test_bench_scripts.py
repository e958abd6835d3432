"""The benchmarks are commands (`python -m bench.<name>`): each configures Django itself, so
importing one must not touch Django's settings or models first — a model imported at the top of
a bench module breaks its command before it measures anything."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import bench
from household_ledger.testing import child_process_env

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = sorted(
    module.name
    for module in pkgutil.iter_modules(bench.__path__)
    if "django.setup()" in (ROOT / "bench" / f"{module.name}.py").read_text()
)


def test_the_bench_commands_are_found():
    assert {"http_bench", "budgets", "stats"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_a_bench_command_imports_before_django_is_set_up(name):
    env = child_process_env()
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-c", f"import bench.{name}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
