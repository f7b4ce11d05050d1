"""The PostgreSQL fixtures themselves: skip or fail without a server, use a given one.

Each case runs pytest in a subprocess on a tiny test that asks for ``postgres_url``, with
the environment the case is about.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from tests.postgres_server import (
    BINARIES_VARIABLE,
    MISSING_BINARIES,
    REQUIRE_VARIABLE,
    SERVER_URL_VARIABLE,
    TEST_DATABASE_PREFIX,
    PostgresServer,
)

REPO = Path(__file__).resolve().parents[2]

_CONFTEST = """
from tests.postgres_server import mark_postgres_tests, postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]


def pytest_collection_modifyitems(items):
    mark_postgres_tests(items)
"""

_TEST = """
import pytest


def test_uses_a_database(postgres_server, postgres_url, request):
    assert request.node.get_closest_marker("postgres") is not None
    from sqlalchemy import create_engine
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        name = connection.exec_driver_sql("SELECT current_database()").scalar()
    engine.dispose()
    assert name.startswith("thinktwice_test_")
    print("restartable:", postgres_server.can_restart)
"""


def _run_inner(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    folder = tmp_path / "inner"
    folder.mkdir()
    (folder / "pytest.ini").write_text("[pytest]\nmarkers =\n    postgres: x\n", "utf-8")
    (folder / "conftest.py").write_text(_CONFTEST, encoding="utf-8")
    (folder / "test_inner.py").write_text(_TEST, encoding="utf-8")
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {SERVER_URL_VARIABLE, REQUIRE_VARIABLE, BINARIES_VARIABLE}
    }
    environment.update(variables)
    environment["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-rs", "-s", "-p", "no:cacheprovider", str(folder)],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_server_binaries_the_tests_are_skipped_with_the_reason(tmp_path: Path) -> None:
    result = _run_inner(tmp_path, **{BINARIES_VARIABLE: str(tmp_path / "no-binaries")})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "PostgreSQL server binaries not found; install the Debian package postgresql" in (
        result.stdout
    )


def test_when_postgres_is_required_a_missing_server_is_a_failure(tmp_path: Path) -> None:
    result = _run_inner(
        tmp_path, **{BINARIES_VARIABLE: str(tmp_path / "no-binaries"), REQUIRE_VARIABLE: "1"}
    )
    assert result.returncode != 0
    assert "skipped" not in result.stdout
    assert MISSING_BINARIES in result.stdout
    assert f"{REQUIRE_VARIABLE}=1 requires it" in result.stdout


def _test_databases(server: PostgresServer) -> set[str]:
    engine = create_engine(server.admin_url)
    try:
        with engine.connect() as connection:
            names = connection.exec_driver_sql("SELECT datname FROM pg_database").scalars()
            return {name for name in names if name.startswith(TEST_DATABASE_PREFIX)}
    finally:
        engine.dispose()


def test_a_server_named_in_the_environment_is_used_and_left_running(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    before = _test_databases(postgres_server)
    result = _run_inner(tmp_path, **{SERVER_URL_VARIABLE: postgres_server.admin_url})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert "restartable: False" in result.stdout
    # The server still answers (the inner session did not stop it) and the inner test's
    # database was dropped.
    assert _test_databases(postgres_server) == before


@pytest.mark.slow
def test_a_throwaway_server_is_started_and_removed(tmp_path: Path) -> None:
    from tests.postgres_server import find_server_binaries

    if find_server_binaries() is None:
        pytest.skip(MISSING_BINARIES)
    before = set(Path(os.environ.get("TMPDIR", "/tmp")).glob("thinktwice-pg-*"))
    result = _run_inner(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert "restartable: True" in result.stdout
    after = set(Path(os.environ.get("TMPDIR", "/tmp")).glob("thinktwice-pg-*"))
    assert after <= before  # its data folder is gone
