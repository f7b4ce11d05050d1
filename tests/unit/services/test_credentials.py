"""Team database passwords: never in settings, files or logs; kept in the keyring, or asked.

The keyring is an in-memory stand-in (tests/fake_keyring.py), or keyring's own "fail"
backend for a machine without one.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from app.services.bootstrap import AppConfig, open_context
from app.services.credentials import (
    KEYRING_SERVICE,
    CredentialsUnavailableError,
    KeyringPasswords,
    keyring_user,
    mask_password,
    split_password,
)
from app.services.settings import Settings
from app.services.team_database import check_connection, save_team_database, server_address
from tests.fake_keyring import MemoryKeyring, memory_keyring, no_keyring

__all__ = ["memory_keyring", "no_keyring"]

SECRET = "s3cr3t-Pa55"
BARE = "postgresql+psycopg://thinktwice_app@db.example.internal/thinktwice"
WITH_SECRET = f"postgresql+psycopg://thinktwice_app:{SECRET}@db.example.internal/thinktwice"


def _files_holding(folder: Path, text: str) -> list[Path]:
    needle = text.encode()
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


# Addresses


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (WITH_SECRET, "postgresql+psycopg://thinktwice_app:***@db.example.internal/thinktwice"),
        (BARE, BARE),
        ("postgresql://u:p@ss@h/db and more", "postgresql://u:***@h/db and more"),
        ("could not reach x://a:b@c, sorry", "could not reach x://a:***@c, sorry"),
    ],
)
def test_a_password_in_an_address_is_shown_as_stars(text: str, shown: str) -> None:
    assert mask_password(text) == shown


def test_an_address_splits_into_the_bare_address_and_its_password() -> None:
    address = split_password(
        "postgresql+psycopg://app:p%40ss%2Fword@db.example.internal:5433/tt?sslmode=require"
    )
    assert address.url == "postgresql+psycopg://app@db.example.internal:5433/tt?sslmode=require"
    assert address.password == "p@ss/word"
    assert "p@ss" not in repr(address)
    assert split_password(BARE).password is None


def test_a_broken_address_is_refused_without_repeating_its_password() -> None:
    with pytest.raises(ValueError) as raised:
        split_password(f"postgresql+psycopg://app:{SECRET}@host:notaport/db")
    assert SECRET not in str(raised.value)


def test_the_keyring_user_names_user_host_and_database() -> None:
    assert keyring_user(BARE) == "thinktwice_app@db.example.internal/thinktwice"
    assert keyring_user("postgresql+psycopg://app@h:5433/db") == "app@h:5433/db"
    assert keyring_user("sqlite:////tmp/thinktwice.db") is None
    assert keyring_user("postgresql+psycopg:///db") is None


def test_only_postgresql_addresses_are_taken_for_a_team_database() -> None:
    assert server_address(WITH_SECRET) == (BARE, SECRET)
    assert server_address(WITH_SECRET, "typed") == (BARE, "typed")
    with pytest.raises(ValueError, match="not a PostgreSQL address"):
        server_address("sqlite:////tmp/x.db")
    with pytest.raises(ValueError, match="Enter the address"):
        server_address("  ")


# The keyring


def test_passwords_are_kept_in_the_keyring_under_thinktwice(memory_keyring: MemoryKeyring) -> None:
    passwords = KeyringPasswords()
    assert passwords.available()
    passwords.set(BARE, SECRET)
    assert memory_keyring.passwords == {
        (KEYRING_SERVICE, "thinktwice_app@db.example.internal/thinktwice"): SECRET
    }
    assert passwords.get(BARE) == SECRET
    passwords.delete(BARE)
    passwords.delete(BARE)  # forgetting twice is harmless
    assert passwords.get(BARE) is None


@pytest.mark.usefixtures("no_keyring")
def test_without_a_keyring_nothing_is_kept_and_saying_so_is_clear() -> None:
    passwords = KeyringPasswords()
    assert not passwords.available()
    assert passwords.get(BARE) is None
    with pytest.raises(CredentialsUnavailableError, match="ask for it at each start"):
        passwords.set(BARE, SECRET)


# Settings, files and logs


def test_settings_never_write_a_password(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    settings = Settings.in_data_dir(tmp_path)
    settings.database_url = WITH_SECRET
    settings.save()

    assert json.loads(settings.path.read_text())["database_url"] == BARE
    assert _files_holding(tmp_path, SECRET) == []
    assert SECRET not in caplog.text


def test_a_password_written_into_the_settings_by_hand_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    (tmp_path / "settings.json").write_text(json.dumps({"database_url": WITH_SECRET}))
    settings = Settings.in_data_dir(tmp_path)
    assert settings.database_url == BARE
    assert "held a password, which was ignored" in caplog.text
    assert SECRET not in caplog.text
    settings.save()
    assert _files_holding(tmp_path, SECRET) == []


def test_the_address_in_the_settings_is_used_when_none_is_given(tmp_path: Path) -> None:
    settings = Settings.in_data_dir(tmp_path)
    settings.database_url = BARE
    settings.save()
    assert AppConfig(data_dir=tmp_path).effective_database_url() == BARE
    given = "postgresql+psycopg://other@elsewhere/db"
    assert AppConfig(data_dir=tmp_path, database_url=given).effective_database_url() == given


def test_saving_the_team_database_puts_the_password_in_the_keyring_only(
    tmp_path: Path, memory_keyring: MemoryKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = Settings.in_data_dir(tmp_path)
    saved = save_team_database(settings, KeyringPasswords(), WITH_SECRET)

    assert saved.url == BARE
    assert saved.in_keyring
    assert saved.session_password is None
    assert json.loads(settings.path.read_text())["database_url"] == BARE
    assert KeyringPasswords().get(BARE) == SECRET
    assert SECRET not in saved.message
    assert SECRET not in repr(saved)
    assert _files_holding(tmp_path, SECRET) == []
    assert SECRET not in caplog.text


@pytest.mark.usefixtures("no_keyring")
def test_without_a_keyring_the_password_is_kept_for_the_session_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = Settings.in_data_dir(tmp_path)
    saved = save_team_database(settings, KeyringPasswords(), BARE, SECRET)

    assert not saved.in_keyring
    assert saved.session_password == SECRET
    assert "ask for it at each start" in saved.message
    assert _files_holding(tmp_path, SECRET) == []
    assert SECRET not in caplog.text


def test_declining_to_remember_forgets_a_password_kept_before(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    passwords = KeyringPasswords()
    passwords.set(BARE, "old")
    saved = save_team_database(
        Settings.in_data_dir(tmp_path), passwords, BARE, SECRET, remember=False
    )
    assert passwords.get(BARE) is None
    assert saved.session_password == SECRET


def test_an_empty_address_goes_back_to_the_file_on_this_computer(tmp_path: Path) -> None:
    settings = Settings.in_data_dir(tmp_path)
    settings.database_url = BARE
    saved = save_team_database(settings, KeyringPasswords(), "")
    assert saved.url is None
    assert "database_url" not in json.loads(settings.path.read_text())


def test_the_password_to_open_with_comes_from_memory_then_the_keyring(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    passwords = KeyringPasswords()
    config = AppConfig(data_dir=tmp_path)
    assert config.database_password_for(BARE, passwords) is None
    passwords.set(BARE, "from-keyring")
    assert config.database_password_for(BARE, passwords) == "from-keyring"
    typed = AppConfig(data_dir=tmp_path, database_password="typed")
    assert typed.database_password_for(BARE, passwords) == "typed"
    assert typed.database_password_for(WITH_SECRET, passwords) is None, "the URL's own wins"
    assert typed.database_password_for("sqlite:////tmp/x.db", passwords) is None
    assert "typed" not in repr(typed)


def test_testing_an_unreachable_server_says_why_without_the_password(
    memory_keyring: MemoryKeyring,
) -> None:
    # Port 1 on this machine: nothing listens, so the connection is refused at once.
    check = check_connection(f"postgresql+psycopg://app:{SECRET}@127.0.0.1:1/thinktwice")
    assert not check.ok
    assert "app:***@127.0.0.1:1/thinktwice" in check.message
    assert SECRET not in check.message


def test_testing_something_that_is_not_a_server_address_says_so() -> None:
    check = check_connection("sqlite:////tmp/thinktwice.db")
    assert not check.ok
    assert "not a PostgreSQL address" in check.message


def test_with_the_sqlite_file_there_is_no_outbox(tmp_path: Path) -> None:
    pytest.importorskip("app.content.loader")
    with open_context(AppConfig(data_dir=tmp_path)) as context:
        assert context.outbox is None
        assert context.outbox_sender is None
        assert context.recorder is not None
    assert not (tmp_path / "outbox.db").exists()
