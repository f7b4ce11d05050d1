"""A real PostgreSQL server for the tests, and the pytest fixtures that hand it out.

``postgres_server`` (once per session) is the server named by the environment variable
``THINKTWICE_TEST_POSTGRES_URL`` (an account that may create databases) or, without it, a
throwaway cluster started here with the installed server binaries (Debian's
``/usr/lib/postgresql/<version>/bin``, ``pg_ctl`` on PATH, or the folder named by
``THINKTWICE_TEST_POSTGRES_BIN``): its data folder is a temporary folder, it listens on
127.0.0.1 on a free port, and it is stopped and deleted at the end of the session. As root,
the binaries run as the ``postgres`` account (or ``nobody``), since the server refuses root.

``postgres_url`` (once per test) is the URL of a fresh, empty database on that server,
dropped after the test.

Without server binaries the tests that use these fixtures are skipped with the reason;
``THINKTWICE_REQUIRE_POSTGRES=1`` (set by CI) turns that skip into a failure.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

SERVER_URL_VARIABLE = "THINKTWICE_TEST_POSTGRES_URL"
REQUIRE_VARIABLE = "THINKTWICE_REQUIRE_POSTGRES"
BINARIES_VARIABLE = "THINKTWICE_TEST_POSTGRES_BIN"
MISSING_BINARIES = (
    "PostgreSQL server binaries not found; install the Debian package postgresql "
    f"(or set {SERVER_URL_VARIABLE} to an account on a server that may create databases)"
)
TEST_DATABASE_PREFIX = "thinktwice_test_"
SUPERUSER = "postgres"
START_TIMEOUT_SECONDS = 60
_DEBIAN_BINARIES = "/usr/lib/postgresql/*/bin"
# initdb, pg_ctl and the server take the numeric locale from here; keep their output stable.
_PLAIN_ENVIRONMENT = {"LC_ALL": "C", "LANG": "C"}


def find_server_binaries() -> Path | None:
    """The folder with ``initdb`` and ``pg_ctl``: Debian's newest, else the ones on PATH.

    ``THINKTWICE_TEST_POSTGRES_BIN`` names the folder instead (other systems keep them
    elsewhere); then only that folder is looked at.
    """
    chosen = os.environ.get(BINARIES_VARIABLE, "").strip()
    if chosen:
        return Path(chosen) if _has_server(Path(chosen)) else None
    candidates = sorted(
        (p for p in Path("/").glob(_DEBIAN_BINARIES.lstrip("/")) if _has_server(p)),
        key=lambda p: _version_key(p.parent.name),
        reverse=True,
    )
    if candidates:
        return candidates[0]
    on_path = shutil.which("pg_ctl")
    if on_path is not None:
        folder = Path(on_path).resolve().parent
        if _has_server(folder):
            return folder
    return None


def _has_server(folder: Path) -> bool:
    return all(os.access(folder / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres"))


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name)) or (0,)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerStartError(RuntimeError):
    """The throwaway cluster could not be created or started; the message has its log."""


class ThrowawayCluster:
    """A PostgreSQL cluster in a temporary folder, owned and removed by this process."""

    def __init__(self, binaries: Path) -> None:
        self._binaries = binaries
        self._folder = Path(tempfile.mkdtemp(prefix="thinktwice-pg-"))
        self._data = self._folder / "data"
        self._log = self._folder / "server.log"
        self._password = secrets.token_urlsafe(18)
        self._port = 0
        self._running = False
        self._run_as = _unprivileged_account() if os.geteuid() == 0 else None
        if self._run_as is not None:
            os.chown(self._folder, self._run_as.pw_uid, self._run_as.pw_gid)
        self._folder.chmod(0o700)

    @property
    def port(self) -> int:
        """The TCP port on 127.0.0.1 (0 before the first start)."""
        return self._port

    @property
    def password(self) -> str:
        """The superuser's password (local connections need it too: scram-sha-256)."""
        return self._password

    @property
    def running(self) -> bool:
        return self._running

    def create(self) -> None:
        """Run initdb: password authentication for everyone, UTF-8, no locale."""
        password_file = self._folder / "superuser-password"
        password_file.write_text(self._password + "\n", encoding="utf-8")
        self._give_to_server_account(password_file)
        try:
            self._run(
                "initdb",
                "--pgdata",
                str(self._data),
                "--username",
                SUPERUSER,
                "--pwfile",
                str(password_file),
                "--auth",
                "scram-sha-256",
                "--encoding",
                "UTF8",
                "--no-locale",
                "--no-sync",
            )
        finally:
            password_file.unlink(missing_ok=True)

    def start(self) -> None:
        """Start the server, on a new free port the first time and on the same one after."""
        attempts = 1 if self._port else 3
        for attempt in range(attempts):
            if not self._port or attempt:
                self._port = _free_port()
            # Durability settings off: this data is thrown away, and the tests run faster.
            options = (
                f"-h 127.0.0.1 -p {self._port} -k {self._folder} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=200 -c shared_buffers=32MB"
            )
            try:
                self._run(
                    "pg_ctl",
                    "start",
                    "--pgdata",
                    str(self._data),
                    "--log",
                    str(self._log),
                    "--options",
                    options,
                    "--wait",
                    "--timeout",
                    str(START_TIMEOUT_SECONDS),
                )
            except ServerStartError:
                if attempt + 1 == attempts:
                    raise
                continue
            self._running = True
            return

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: roll back open transactions, close connections)."""
        if not self._running:
            return
        self._run("pg_ctl", "stop", "--pgdata", str(self._data), "--mode", mode, "--wait")
        self._running = False

    def destroy(self) -> None:
        """Stop the server if it runs and delete its folder."""
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)

    def _give_to_server_account(self, path: Path) -> None:
        if self._run_as is not None:
            os.chown(path, self._run_as.pw_uid, self._run_as.pw_gid)
        path.chmod(0o600)

    def _run(self, program: str, *arguments: str) -> None:
        command: list[str] = [str(self._binaries / program), *arguments]
        if self._run_as is not None:
            command = [*_switch_user_command(self._run_as.pw_name), *command]
        result = subprocess.run(
            command,
            cwd=self._folder,
            env={**os.environ, **_PLAIN_ENVIRONMENT},
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_SECONDS + 30,
            check=False,
        )
        if result.returncode != 0:
            raise ServerStartError(
                f"{program} {' '.join(arguments[:1])} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        try:
            lines = self._log.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return "\nserver log:\n" + "\n".join(lines[-20:])


def _unprivileged_account() -> pwd.struct_passwd:
    """The account the server runs as when the tests run as root."""
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ServerStartError(
        "Running as root, and neither a 'postgres' nor a 'nobody' account exists to run "
        "the PostgreSQL server (it refuses to run as root)."
    )


def _switch_user_command(account: str) -> Sequence[str]:
    for runuser in ("runuser", "/usr/sbin/runuser", "/sbin/runuser"):
        found = shutil.which(runuser)
        if found is not None:
            return [found, "-u", account, "--"]
    found_su = shutil.which("su") or "/bin/su"
    # su takes the command as one string; the arguments here never contain quotes.
    return [found_su, "-s", "/bin/sh", account, "-c", '"$0" "$@"']


class PostgresServer:
    """A PostgreSQL server the tests may create databases on.

    ``admin_url`` is a SQLAlchemy URL (with the password) of its maintenance database.
    ``cluster`` is set when the server is a throwaway one started for this session; only
    then can the tests stop and start it.
    """

    def __init__(self, admin_url: str, cluster: ThrowawayCluster | None = None) -> None:
        self.admin_url = admin_url
        self.cluster = cluster

    @classmethod
    def throwaway(cls, binaries: Path) -> PostgresServer:
        """Create and start a new cluster with the server binaries in ``binaries``."""
        cluster = ThrowawayCluster(binaries)
        try:
            cluster.create()
            cluster.start()
        except BaseException:
            cluster.destroy()
            raise
        url = (
            f"postgresql+psycopg://{SUPERUSER}:{cluster.password}@127.0.0.1:{cluster.port}/postgres"
        )
        return cls(url, cluster)

    @property
    def can_restart(self) -> bool:
        """Whether :meth:`stop` and :meth:`start` are allowed (only on our own cluster)."""
        return self.cluster is not None

    def database_url(self, name: str) -> str:
        """The URL of database ``name`` on this server, with the same account."""
        from sqlalchemy.engine import make_url

        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def create_database(self, owner: str | None = None) -> str:
        """Create a new, empty database with a unique name; returns its URL."""
        name = f"{TEST_DATABASE_PREFIX}{uuid.uuid4().hex[:12]}"
        owner_clause = f" OWNER {owner}" if owner else ""
        self.execute_admin(f"CREATE DATABASE {name}{owner_clause}")
        return self.database_url(name)

    def drop_database(self, url: str) -> None:
        """Drop the database at ``url``, closing whatever connections it still has."""
        from sqlalchemy.engine import make_url

        name = make_url(url).database
        if not name or not name.startswith(TEST_DATABASE_PREFIX):
            raise ValueError(f"refusing to drop {name!r}: not a test database")
        self.execute_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def execute_admin(self, *statements: str, database: str | None = None) -> None:
        """Run ``statements`` as the admin account, each in its own autocommit step."""
        from sqlalchemy import create_engine

        url = self.database_url(database) if database else self.admin_url
        engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=_null_pool())
        try:
            with engine.connect() as connection:
                for statement in statements:
                    connection.exec_driver_sql(statement)
        finally:
            engine.dispose()

    def stop(self) -> None:
        """Stop the throwaway server (its data stays)."""
        self._own_cluster().stop()

    def start(self) -> None:
        """Start the throwaway server again, on the same port."""
        self._own_cluster().start()

    def close(self) -> None:
        """Stop and delete a throwaway server; leave a server given from outside alone."""
        if self.cluster is not None:
            self.cluster.destroy()

    def _own_cluster(self) -> ThrowawayCluster:
        if self.cluster is None:
            raise RuntimeError(f"the server in {SERVER_URL_VARIABLE} is not ours to stop or start")
        return self.cluster


def _null_pool() -> type:
    from sqlalchemy.pool import NullPool

    return NullPool


def require_postgres() -> bool:
    """Whether a missing PostgreSQL server is a failure rather than a reason to skip."""
    return os.environ.get(REQUIRE_VARIABLE, "").strip() == "1"


def open_server() -> PostgresServer:
    """The server for this test session; skips (or fails, when required) without one."""
    url = os.environ.get(SERVER_URL_VARIABLE, "").strip()
    if url:
        return PostgresServer(url)
    binaries = find_server_binaries()
    if binaries is None:
        if require_postgres():
            pytest.fail(f"{MISSING_BINARIES}; {REQUIRE_VARIABLE}=1 requires it", pytrace=False)
        pytest.skip(MISSING_BINARIES)
    server = PostgresServer.throwaway(binaries)
    # Should the session end without running the fixture's finaliser (an interrupt at the
    # wrong moment), do not leave a server running in the background.
    atexit.register(server.close)
    return server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The PostgreSQL server of this test session (see the module docstring)."""
    server = open_server()
    try:
        yield server
    finally:
        server.close()
        atexit.unregister(server.close)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL (with credentials) of a fresh, empty database, dropped after the test."""
    url = postgres_server.create_database()
    try:
        yield url
    finally:
        postgres_server.drop_database(url)


POSTGRES_FIXTURES = frozenset({"postgres_server", "postgres_url"})


def mark_postgres_tests(items: list[pytest.Item]) -> None:
    """Give the ``postgres`` marker to every test that uses the server fixtures."""
    for item in items:
        if POSTGRES_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)
