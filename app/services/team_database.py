"""Choosing the team database from the app: test an address, save it, keep its password.

The address is saved in the settings without its password; the password goes to the system
keyring when there is one and the trainee asks for it, and is otherwise kept in memory for
this session only (the app then asks for it at the next start). Nothing here ever writes a
password to a file or a log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.services.credentials import (
    CredentialsUnavailableError,
    KeyringPasswords,
    is_server_url,
    mask_password,
    split_password,
)
from app.storage.errors import StorageError

if TYPE_CHECKING:
    from app.services.settings import Settings

_log = logging.getLogger(__name__)

SERVER_SCHEMES = ("postgresql",)


@dataclass(frozen=True)
class ConnectionCheck:
    """How testing a connection went, in a sentence to show."""

    ok: bool
    message: str


@dataclass(frozen=True)
class SavedTeamDatabase:
    """What saving the team database did.

    ``url`` is the address saved (without password), or ``None`` when the SQLite file on
    this computer is used again. ``in_keyring`` says whether the password is in the system
    keyring; ``session_password`` is a password given but not kept anywhere, for this
    session only (never shown). ``message`` says all this in words.
    """

    url: str | None
    in_keyring: bool
    message: str
    session_password: str | None = field(default=None, repr=False)


def server_address(url: str, password: str = "") -> tuple[str, str | None]:
    """The address without its password, and the password to use (typed, else in the URL).

    Raises ``ValueError`` with a message to show when ``url`` is not a PostgreSQL address.
    """
    text = url.strip()
    if not text:
        raise ValueError("Enter the address of the team database server.")
    address = split_password(text)
    scheme = address.url.split(":", 1)[0].split("+", 1)[0].lower()
    if not is_server_url(address.url) or scheme not in SERVER_SCHEMES:
        raise ValueError(
            f"'{mask_password(text)}' is not a PostgreSQL address. Use, for example, "
            "postgresql+psycopg://thinktwice_app@db.example.internal/thinktwice."
        )
    return address.url, (password or address.password or None)


def check_connection(
    url: str, password: str = "", passwords: KeyringPasswords | None = None
) -> ConnectionCheck:
    """Connect to the server at ``url`` and read its schema revision, changing nothing.

    Without a typed password, the one in the keyring is used (else libpq's own sources).
    """
    from app.storage.database import inspect_schema

    try:
        bare, given = server_address(url, password)
    except ValueError as error:
        return ConnectionCheck(False, str(error))
    secret = given if given is not None else (passwords or KeyringPasswords()).get(bare)
    try:
        status = inspect_schema(bare, password=secret)
    except StorageError as error:
        return ConnectionCheck(False, error.message)
    if status.up_to_date:
        state = "its schema is up to date"
    elif not status.known:
        state = "it was upgraded by a newer version of Think Twice; update Think Twice to use it"
    else:
        state = (
            "its schema needs an upgrade first: run 'thinktwice --database-url ... db upgrade' "
            "as the owner role (see docs/team-database.md)"
        )
    return ConnectionCheck(status.up_to_date, f"Connected to {status.location}: {state}.")


def save_team_database(
    settings: Settings,
    passwords: KeyringPasswords,
    url: str,
    password: str = "",
    *,
    remember: bool = True,
) -> SavedTeamDatabase:
    """Save ``url`` (without password) as the team database, used from the next start.

    An empty ``url`` goes back to the SQLite file on this computer. A password (typed, or
    written into ``url``) goes to the keyring when ``remember`` is set and a keyring is
    available; otherwise it is kept for this session only, and any password kept for the
    address before is forgotten. Raises ``ValueError`` for an address that is not a
    PostgreSQL one, and ``OSError`` when the settings cannot be written.
    """
    if not url.strip():
        settings.database_url = None
        settings.save()
        return SavedTeamDatabase(
            None,
            in_keyring=False,
            message=(
                "From the next start, answers are kept in the database file on this computer."
            ),
        )
    bare, secret = server_address(url, password)
    in_keyring = False
    session_password: str | None = None
    note = ""
    if secret is not None:
        if remember:
            try:
                passwords.set(bare, secret)
                in_keyring = True
            except CredentialsUnavailableError as error:
                session_password = secret
                note = f" {error}"
        else:
            passwords.delete(bare)
            session_password = secret
            note = " The password is kept only until Think Twice closes."
    else:
        in_keyring = passwords.get(bare) is not None
    settings.database_url = bare
    settings.save()
    _log.info("team database set to %s", bare)
    where = "the system keyring" if in_keyring else None
    kept = f" The password is kept in {where}." if where else ""
    return SavedTeamDatabase(
        bare,
        in_keyring=in_keyring,
        message=f"Saved: from the next start, answers go to {bare}.{kept}{note}",
        session_password=session_password,
    )


def forget_password(passwords: KeyringPasswords, url: str) -> None:
    """Remove the password kept in the keyring for the server at ``url``, if any."""
    try:
        bare, _given = server_address(url)
    except ValueError:
        return
    passwords.delete(bare)
