"""The team set-up in docs/team-database.md, done as written, gives what it promises.

The SQL block of the guide is run as it stands (its two psql commands, ``\\password`` and
``\\connect``, are carried out the way psql would), as a superuser and as an administrator
that is not one (as on managed services). Then the owner role creates the schema, the app
role records answers but cannot change the schema, passwords come from ``PGPASSWORD`` or a
password file, and a later schema change needs the owner.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from shutil import copytree

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from app.services.errors import DatabaseUnreachable, MigrationFailed
from app.services.settings import Settings
from app.services.training import TrainingService
from app.storage import migrator
from app.storage.database import Database, inspect_schema, open_database
from tests.pg.workload import record_one, sample_library
from tests.postgres_server import TEST_DATABASE_PREFIX, PostgresServer

pytestmark = pytest.mark.postgres

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "team-database.md"


def guide_sql() -> str:
    """The guide's SQL block (there is exactly one)."""
    (block,) = re.findall(r"```sql\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.DOTALL)
    return str(block)


@dataclass
class Team:
    server: PostgresServer
    database: str
    owner: str
    app: str
    passwords: dict[str, str]

    def url(self, role: str, *, with_password: bool = True) -> str:
        admin = make_url(self.server.admin_url)
        # URL.create, not URL.set: set() keeps the admin's password when given None.
        return URL.create(
            admin.drivername,
            username=role,
            password=self.passwords[role] if with_password else None,
            host=admin.host,
            port=admin.port,
            database=self.database,
        ).render_as_string(hide_password=False)


def _run_guide(server: PostgresServer, admin_url: str, team: Team) -> None:
    """Run the guide's SQL as psql would, with this test's names for the roles and database."""
    script = guide_sql().replace("thinktwice_owner", team.owner).replace("thinktwice_app", team.app)
    script = re.sub(r"\bthinktwice\b", team.database, script)
    url = make_url(admin_url)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    connection = engine.connect()
    pending = ""
    try:
        for line in script.splitlines():
            stripped = line.strip()
            if not stripped or stripped.startswith("--"):
                continue
            if stripped.startswith("\\password "):
                role = stripped.split()[1]
                team.passwords[role] = secrets.token_urlsafe(12)
                connection.exec_driver_sql(f"ALTER ROLE {role} PASSWORD '{team.passwords[role]}'")
            elif stripped.startswith("\\connect "):
                connection.close()
                engine.dispose()
                engine = create_engine(
                    url.set(database=stripped.split()[1]), isolation_level="AUTOCOMMIT"
                )
                connection = engine.connect()
            else:
                pending += line + "\n"
                if stripped.endswith(";"):
                    connection.exec_driver_sql(pending)
                    pending = ""
        assert not pending.strip(), f"unterminated statement: {pending}"
    finally:
        connection.close()
        engine.dispose()


def _managed_style_admin(server: PostgresServer, suffix: str) -> tuple[str, str]:
    """A role like a managed service's administrator: creates roles and databases only."""
    name = f"tt_admin_{suffix}"
    password = secrets.token_urlsafe(12)
    server.execute_admin(f"CREATE ROLE {name} LOGIN CREATEROLE CREATEDB PASSWORD '{password}'")
    url = make_url(server.admin_url).set(username=name, password=password)
    return name, url.render_as_string(hide_password=False)


@pytest.fixture(params=["superuser", "managed-style admin"])
def team(request: pytest.FixtureRequest, postgres_server: PostgresServer) -> Iterator[Team]:
    suffix = uuid.uuid4().hex[:10]
    team = Team(
        server=postgres_server,
        database=f"{TEST_DATABASE_PREFIX}{suffix}",
        owner=f"tt_owner_{suffix}",
        app=f"tt_app_{suffix}",
        passwords={},
    )
    roles = [team.app, team.owner]
    try:
        admin_url = postgres_server.admin_url
        if request.param != "superuser":
            admin, admin_url = _managed_style_admin(postgres_server, suffix)
            roles.append(admin)
        _run_guide(postgres_server, admin_url, team)
        yield team
    finally:
        postgres_server.drop_database(postgres_server.database_url(team.database))
        postgres_server.execute_admin(*(f"DROP ROLE IF EXISTS {role}" for role in roles))


def _training(database: Database, tmp_path: Path) -> TrainingService:
    return TrainingService(database, sample_library(), Settings.in_data_dir(tmp_path))


def test_the_owner_creates_the_schema_and_the_app_role_records_answers(
    team: Team, tmp_path: Path
) -> None:
    with open_database(team.url(team.owner), backup_dir=None) as database:
        assert database.current_revision() == migrator.HEAD_REVISION

    assert inspect_schema(team.url(team.app)).up_to_date
    with open_database(team.url(team.app), backup_dir=None) as database:
        training = _training(database, tmp_path)
        profile = training.create_profile("Ada Example")
        training.mark_lesson_read(profile, "irreversible-actions")
        attempt = record_one(training, profile)
        assert [r.attempt_id for r in training.answers_for(profile)] == [attempt]


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE intruder (id integer)",
        "DROP TABLE answer",
        "ALTER TABLE trainee ADD COLUMN note text",
        "TRUNCATE answer",
    ],
)
def test_the_app_role_cannot_change_the_schema(team: Team, statement: str) -> None:
    open_database(team.url(team.owner), backup_dir=None).close()
    engine = create_engine(team.url(team.app))
    try:
        with engine.connect() as connection, pytest.raises(DBAPIError) as raised:
            connection.exec_driver_sql(statement)
    finally:
        engine.dispose()
    assert getattr(raised.value.orig, "sqlstate", None) == "42501"  # insufficient privilege


def test_other_roles_cannot_connect(team: Team) -> None:
    outsider = f"tt_outsider_{uuid.uuid4().hex[:8]}"
    team.passwords[outsider] = secrets.token_urlsafe(12)
    team.server.execute_admin(f"CREATE ROLE {outsider} LOGIN PASSWORD '{team.passwords[outsider]}'")
    try:
        with pytest.raises(DatabaseUnreachable, match="permission denied"):
            inspect_schema(team.url(outsider))
    finally:
        team.server.execute_admin(f"DROP ROLE {outsider}")


def test_the_password_comes_from_pgpassword_or_a_password_file(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_database(team.url(team.owner), backup_dir=None).close()
    without_password = team.url(team.app, with_password=False)
    password = team.passwords[team.app]
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-such-file"))

    with pytest.raises(DatabaseUnreachable) as raised:
        inspect_schema(without_password)
    assert password not in str(raised.value)

    monkeypatch.setenv("PGPASSWORD", password)
    assert inspect_schema(without_password).up_to_date

    monkeypatch.delenv("PGPASSWORD")
    address = make_url(team.server.admin_url)
    password_file = tmp_path / "pgpass"
    password_file.write_text(
        f"{address.host}:{address.port}:{team.database}:{team.app}:{password}\n",
        encoding="utf-8",
    )
    password_file.chmod(0o600)  # libpq ignores a password file others can read
    monkeypatch.setenv("PGPASSFILE", str(password_file))
    with open_database(without_password, backup_dir=None) as database:
        assert database.current_revision() == migrator.HEAD_REVISION


_LATER_REVISION = '''
"""Test revision: a later version adds a table."""
import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("team_note", sa.Column("id", sa.Integer(), primary_key=True))
'''


@pytest.fixture
def later_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Make this process behave like a later Think Twice with one more revision."""

    def install() -> None:
        location = tmp_path / "migrations"
        copytree(
            migrator.MIGRATIONS_DIR,
            location,
            ignore=lambda _folder, names: [n for n in names if n == "__pycache__"],
        )
        (location / "versions" / "9001_later.py").write_text(
            _LATER_REVISION.replace("{head}", migrator.HEAD_REVISION), encoding="utf-8"
        )
        monkeypatch.setattr(migrator, "MIGRATIONS_DIR", location)
        monkeypatch.setattr(migrator, "HEAD_REVISION", "9001")

    return install


def test_a_later_schema_change_needs_the_owner_and_the_app_role_then_uses_it(
    team: Team, later_version: Callable[[], None]
) -> None:
    open_database(team.url(team.owner), backup_dir=None).close()
    earlier = migrator.HEAD_REVISION
    later_version()

    with pytest.raises(MigrationFailed, match="rolled back") as raised:
        open_database(team.url(team.app), backup_dir=None)
    assert team.passwords[team.app] not in str(raised.value)
    assert inspect_schema(team.url(team.app)).current == earlier

    with open_database(team.url(team.owner), backup_dir=None) as database:
        assert database.current_revision() == "9001"
    # The guide's default privileges cover the new table too.
    engine = create_engine(team.url(team.app))
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO team_note DEFAULT VALUES"))
            assert connection.execute(text("SELECT count(*) FROM team_note")).scalar() == 1
    finally:
        engine.dispose()
