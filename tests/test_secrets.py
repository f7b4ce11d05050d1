"""No secret in clear: not in the data folder, not in the output, not in the logs.

A session sets and uses a manager passphrase and gives database addresses with a password
(a real PostgreSQL server from tests/postgres_server.py, and an unreachable one). Then
every file under the data folder (database and its journal, settings, cache, backups,
exports, outbox, logs) is searched byte by byte, and so is everything the commands
printed and every log record written in-process, for the passphrase and the passwords,
plain and URL-encoded. The passphrase must be kept only as a salted hash.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy.engine import make_url

from app import cli

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
PASSPHRASE = "Manager-passphrase-c7f3a9-never-in-clear"
UNREACHABLE_PASSWORD = "Unreachable-pw-51d2e8-never-in-clear"
WRONG_PASSWORD = "Wrong-pw-93bb04-never-in-clear"
PASSPHRASE_VARIABLE = "THINKTWICE_MANAGER_PASSPHRASE"


class Session:
    """Runs the app as a subprocess on one data folder and keeps all it printed."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.printed: list[str] = []

    def run(
        self, *arguments: str, passphrase: str | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != PASSPHRASE_VARIABLE}
        env["QT_QPA_PLATFORM"] = "offscreen"
        if passphrase is not None:
            env[PASSPHRASE_VARIABLE] = passphrase
        if stdin is not None:
            env["THINKTWICE_TEST_DRIVER"] = "1"
        result = subprocess.run(
            [sys.executable, "-m", "app", "--data-dir", str(self.data), *arguments],
            cwd=REPO,
            env=env,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.printed += [result.stdout, result.stderr]
        return result


def _forms(secret: str) -> list[bytes]:
    """The ways a secret could be written: plain, URL-encoded, UTF-16."""
    forms = {secret, quote(secret, safe=""), quote(secret)}
    encoded = [form.encode("utf-8") for form in forms]
    return [*encoded, secret.encode("utf-16-le")]


def _files_holding(folder: Path, secret: str) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if any(form in data for form in _forms(secret)):
                found.append(str(path.relative_to(folder)))
    return found


def _printed_holding(printed: list[str], secret: str) -> bool:
    return any(secret in text or quote(secret, safe="") in text for text in printed)


def _assert_nowhere(session: Session, logs: str, *secrets: str) -> None:
    files = sorted(p.relative_to(session.data).as_posix() for p in session.data.rglob("*"))
    assert "thinktwice.db" in files or any(f.startswith("exports") for f in files)
    for secret in secrets:
        assert _files_holding(session.data, secret) == [], f"{secret!r} stored in clear"
        assert not _printed_holding(session.printed, secret), f"{secret!r} printed"
        assert secret not in logs, f"{secret!r} logged"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record of the in-process steps, at every level."""
    with caplog.at_level(logging.DEBUG):
        yield caplog


def _scenario_id() -> str:
    from app.content.loader import load_library

    return next(iter(load_library([]).scenarios))


def _manager_session_in_process(
    data: Path, monkeypatch: pytest.MonkeyPatch, *arguments: str
) -> int:
    monkeypatch.setenv(PASSPHRASE_VARIABLE, PASSPHRASE)
    try:
        return cli.main(["--data-dir", str(data), *arguments])
    finally:
        monkeypatch.delenv(PASSPHRASE_VARIABLE)


def test_no_passphrase_or_password_in_files_output_or_logs(
    tmp_path: Path, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = Session(tmp_path / "state")
    exports = session.data / "exports"
    assert session.run("--profile", "Ada", "--smoke-test").returncode == 0
    answered = session.run(
        "--profile", "Ada", "--scenario", _scenario_id(), stdin="answer reject\nquit\n"
    )
    assert "ack " in answered.stdout, answered.stderr

    # The passphrase is set on first use, then used for manager commands and exports.
    assert session.run("cohort", "create", "Room 1", passphrase=PASSPHRASE).returncode == 0
    assert session.run("cohort", "add", "Room 1", "Ada", passphrase=PASSPHRASE).returncode == 0
    exports.mkdir()
    for export_format, name in (("csv", "all.csv"), ("bundle", "records.zip")):
        result = session.run(
            "export", "--format", export_format, "--cohort", "Room 1",
            "--out", str(exports / name), passphrase=PASSPHRASE,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    wrong = session.run("cohort", "list", passphrase="a wrong passphrase, long enough")
    assert wrong.returncode == 1
    assert session.run("records", "verify").returncode == 0
    assert _manager_session_in_process(session.data, monkeypatch, "cohort", "list") == 0

    # A server address with a password that cannot be reached: refused, password unsaid.
    unreachable = (
        f"postgresql+psycopg://trainer:{UNREACHABLE_PASSWORD}@127.0.0.1:9/thinktwice"
        "?connect_timeout=2"
    )
    for arguments in (("--smoke-test",), ("db", "status"), ("export", "--format", "csv")):
        result = session.run("--database-url", unreachable, *arguments)
        assert result.returncode != 0
        assert "127.0.0.1" in result.stderr
    assert cli.main(["--data-dir", str(session.data), "--database-url", unreachable,
                     "db", "status"]) == 1  # fmt: skip

    _assert_nowhere(session, logs.text, PASSPHRASE, UNREACHABLE_PASSWORD)
    _assert_passphrase_is_only_a_salted_hash(session.data / "thinktwice.db")


def _assert_passphrase_is_only_a_salted_hash(database: Path) -> None:
    import sqlite3

    with sqlite3.connect(database) as connection:
        (stored,) = connection.execute("SELECT passphrase_hash FROM manager_credential").fetchone()
    assert PASSPHRASE not in stored
    assert stored.startswith(("scrypt$", "$argon2")), "a salted scrypt or argon2 hash"


def test_no_database_password_of_a_real_server_is_kept_or_shown(
    tmp_path: Path, postgres_url: str, logs: pytest.LogCaptureFixture
) -> None:
    password = make_url(postgres_url).password
    assert password, "the test server's account has a password"
    wrong_url = (
        make_url(postgres_url).set(password=WRONG_PASSWORD).render_as_string(hide_password=False)
    )
    session = Session(tmp_path / "state")
    assert session.run("--database-url", postgres_url, "db", "upgrade").returncode == 0
    started = session.run("--database-url", postgres_url, "--profile", "Ada", "--smoke-test")
    assert started.returncode == 0, started.stderr
    created = session.run(
        "--database-url", postgres_url, "cohort", "create", "Room 1", passphrase=PASSPHRASE
    )
    assert created.returncode == 0, created.stderr
    exports = session.data / "exports"
    exports.mkdir()
    exported = session.run(
        "--database-url", postgres_url, "export", "--format", "json", "--cohort", "Room 1",
        "--out", str(exports / "team.json"), passphrase=PASSPHRASE,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    refused = session.run("--database-url", wrong_url, "db", "status")
    assert refused.returncode == 1
    assert cli.main(["--data-dir", str(session.data), "--database-url", wrong_url,
                     "db", "status"]) == 1  # fmt: skip

    _assert_nowhere(session, logs.text, str(password), WRONG_PASSWORD, PASSPHRASE)
