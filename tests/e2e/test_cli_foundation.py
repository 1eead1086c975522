"""The mlpipe console script as a user runs it: exit codes and one-line errors."""

import os
import subprocess
import sys
from pathlib import Path

MLPIPE = str(Path(sys.executable).with_name("mlpipe"))


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [MLPIPE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_db_upgrade_twice(tmp_path: Path) -> None:
    env = {"PIPELINE_HOME": str(tmp_path)}
    first, second = run("db", "upgrade", env=env), run("db", "upgrade", env=env)
    assert first.returncode == 0 and "upgraded" in first.stdout
    assert second.returncode == 0 and "already up to date" in second.stdout
    assert (tmp_path / "data" / "pipeline.db").exists()


def test_bad_database_url_is_one_line_exit_2(tmp_path: Path) -> None:
    result = run("db", "upgrade", env={"PIPELINE_HOME": str(tmp_path), "DATABASE_URL": "nonsense"})
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_make_data_bad_input_exits_2(tmp_path: Path) -> None:
    result = run(
        "make-data", "--rows", "10", "--scenario", "sideways", "--out", str(tmp_path / "x.csv")
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_make_data_writes_csv(tmp_path: Path) -> None:
    out = tmp_path / "d.csv"
    result = run(
        "make-data", "--rows", "50", "--scenario", "missing", "--seed", "1", "--out", str(out)
    )
    assert result.returncode == 0 and out.read_text().count("\n") == 51
