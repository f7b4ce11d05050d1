"""Database passwords: kept in the system keyring, or in memory only, never in a file.

A server address is kept (in the settings) without its password. The password lives in the
system keyring, under the service ``thinktwice`` and the user name ``user@host/db`` (with
``:port`` after the host when the address names a port), read through the ``keyring``
package. When no keyring can be used (none installed, or only keyring's "fail" or "null"
backends), the interface asks for the password at start and keeps it in memory.
PostgreSQL's own ``PGPASSWORD`` and ``~/.pgpass`` work as ever: the driver reads them when
Think Twice gives no password.

Whatever shows an address to a person shows it through :func:`mask_password`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

_log = logging.getLogger(__name__)

KEYRING_SERVICE = "thinktwice"
MASK = "***"
# "scheme://user:password@" in text that may not even parse as a URL. Greedy up to the
# last "@" of the word, so that a password with a raw "@" in it is hidden whole.
_PASSWORD_IN_TEXT = re.compile(r"(://[^:/@\s]*:)\S*@")


class CredentialsUnavailableError(Exception):
    """The system keyring cannot keep a password; the message says why and what to do."""


@dataclass(frozen=True)
class ServerAddress:
    """A database server's address split from its password.

    ``url`` never holds a password; ``password`` is the one that was written into the
    address, if any (``None`` otherwise).
    """

    url: str
    password: str | None = field(repr=False)


def mask_password(text: str) -> str:
    """``text`` with the password of any URL in it replaced by ``***``."""
    return _PASSWORD_IN_TEXT.sub(rf"\g<1>{MASK}@", text)


def is_server_url(url: str) -> bool:
    """Whether ``url`` names a database server (anything but a SQLite file)."""
    scheme = url.split(":", 1)[0].lower()
    return "://" in url and not scheme.startswith("sqlite")


def split_password(url: str) -> ServerAddress:
    """Split ``url`` into the address without its password, and the password.

    Raises ``ValueError`` (whose message never holds the password) when ``url`` is not a
    database address at all.
    """
    from sqlalchemy.engine import URL, make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url.strip())
    except (ArgumentError, ValueError) as error:
        raise ValueError(
            f"'{mask_password(url.strip())}' is not a database address. Use, for example, "
            "postgresql+psycopg://user@host/dbname."
        ) from error
    password = parsed.password
    if password is None:
        return ServerAddress(parsed.render_as_string(hide_password=False), None)
    # URL.set(password=None) would keep the password; build the address anew instead.
    bare = URL.create(
        parsed.drivername,
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    ).render_as_string(hide_password=False)
    return ServerAddress(bare, str(password))


def keyring_user(url: str) -> str | None:
    """The keyring user name of a server address, ``user@host/db``; ``None`` for a file.

    The port joins the host (``user@host:5433/db``) only when the address names one, so
    two servers on one host keep separate passwords.
    """
    if not is_server_url(url):
        return None
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:
        return None
    if not parsed.username or not parsed.host:
        return None
    host = f"{parsed.host}:{parsed.port}" if parsed.port else parsed.host
    return f"{parsed.username}@{host}/{parsed.database or ''}"


class KeyringPasswords:
    """Database passwords in the system keyring, through the ``keyring`` package.

    ``backend`` is the keyring backend to use; ``None`` means the one ``keyring`` chose
    for this system (looked up at each call, so ``keyring.set_keyring`` takes effect).
    Reading never raises: a keyring that fails is reported as having no password.
    """

    def __init__(self, backend: Any | None = None) -> None:
        self._backend = backend

    def _keyring(self) -> Any | None:
        if self._backend is not None:
            return self._backend
        try:
            import keyring
        except ImportError:
            return None
        try:
            return keyring.get_keyring()
        except Exception as error:  # a broken keyring configuration must not stop the app
            _log.warning("the system keyring could not be loaded: %s", type(error).__name__)
            return None

    def available(self) -> bool:
        """Whether a keyring that really keeps passwords is there."""
        backend = self._keyring()
        if backend is None:
            return False
        try:
            from keyring.backends import fail, null
        except ImportError:
            return False
        if isinstance(backend, fail.Keyring | null.Keyring):
            return False
        try:
            return float(getattr(type(backend), "priority", 1)) > 0
        except Exception:
            return False

    def get(self, url: str) -> str | None:
        """The password kept for the server at ``url``, or ``None``."""
        user = keyring_user(url)
        backend = self._keyring()
        if user is None or backend is None or not self.available():
            return None
        try:
            found = backend.get_password(KEYRING_SERVICE, user)
        except Exception as error:
            _log.warning("could not read the system keyring: %s", type(error).__name__)
            return None
        return str(found) if found else None

    def set(self, url: str, password: str) -> None:
        """Keep ``password`` for the server at ``url``.

        Raises :class:`CredentialsUnavailableError` when there is no usable keyring or it
        refuses.
        """
        user = keyring_user(url)
        if user is None:
            raise CredentialsUnavailableError(
                "A password can be kept only for a server address with a user name, "
                "a host and a database, such as postgresql+psycopg://user@host/dbname."
            )
        backend = self._keyring()
        if backend is None or not self.available():
            raise CredentialsUnavailableError(
                "No system keyring is available on this computer, so the password cannot "
                "be kept. Think Twice will ask for it at each start instead."
            )
        try:
            backend.set_password(KEYRING_SERVICE, user, password)
        except Exception as error:
            raise CredentialsUnavailableError(
                f"The system keyring refused to keep the password ({type(error).__name__})."
            ) from error

    def delete(self, url: str) -> None:
        """Forget the password kept for the server at ``url`` (nothing if there is none)."""
        user = keyring_user(url)
        backend = self._keyring()
        if user is None or backend is None or not self.available():
            return
        try:
            backend.delete_password(KEYRING_SERVICE, user)
        except Exception as error:
            # PasswordDeleteError when there was none; anything else is only logged.
            _log.info("no password removed from the keyring: %s", type(error).__name__)
