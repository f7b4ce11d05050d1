"""User settings kept as a small JSON file in the data folder.

The file is written atomically (a temporary file, then a rename), so a crash never leaves
half a file. A missing file means defaults; an unreadable one is kept aside as
``settings.json.bad`` and defaults are used, so a damaged file never stops the app.
Settings never hold secrets: passwords belong in the system keyring.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_log = logging.getLogger(__name__)

SETTINGS_FILE_NAME = "settings.json"
BAD_SUFFIX = ".bad"

_KNOWN_KEYS = (
    "last_profile_uid",
    "extra_content_dirs",
    "xapi_home_page",
    "database_url",
    "theme",
    "text_scale",
)
THEMES = ("light", "dark", "high-contrast")
TEXT_SCALE_RANGE = (1.0, 2.0)
# Placeholder home page for xAPI actor accounts; a real deployment sets its own (the
# organisation's address) as ``xapi_home_page``, so that its learning record store can
# tell its trainees' accounts from anyone else's.
DEFAULT_XAPI_HOME_PAGE = "https://example.com/thinktwice"


@dataclass
class Settings:
    """The app's settings and the file they live in.

    Keys this version does not know are kept as they were, so an older version of Think
    Twice does not erase what a newer one stored.
    """

    path: Path
    last_profile_uid: str | None = None
    extra_content_dirs: list[str] = field(default_factory=list)
    xapi_home_page: str | None = None
    """The home page of xAPI actor accounts; ``None`` uses :data:`DEFAULT_XAPI_HOME_PAGE`."""
    database_url: str | None = None
    """The team database server to use instead of the SQLite file, never with a password
    (that lives in the system keyring, see ``app.services.credentials``)."""
    theme: str | None = None
    """The interface theme chosen (one of ``THEMES``); ``None`` until the trainee chooses,
    which shows the system's preference, else "light"."""
    text_scale: float = 1.0
    """The interface text size as a factor of the normal size, within ``TEXT_SCALE_RANGE``."""
    problem: str | None = None
    """Why the file could not be used, when defaults were used instead; else ``None``."""
    _other_keys: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> Settings:
        """Load ``settings.json`` from ``data_dir``."""
        return cls.load(data_dir / SETTINGS_FILE_NAME)

    @classmethod
    def load(cls, path: Path) -> Settings:
        """Load the settings at ``path``, falling back to defaults when it is unusable."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return cls(path=path)
        except OSError as error:
            _log.warning("cannot read settings %s: %s; using defaults", path, error)
            return cls(path=path, problem=f"could not read {path}: {error.strerror or error}")
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict):
                raise ValueError("the file does not hold a JSON object")
        except ValueError as error:
            # UnicodeDecodeError and JSONDecodeError are ValueErrors too.
            return cls(path=path, problem=_set_aside(path, error))
        settings = cls(path=path)
        uid = data.get("last_profile_uid")
        if isinstance(uid, str) and uid:
            settings.last_profile_uid = uid
        dirs = data.get("extra_content_dirs")
        if isinstance(dirs, list):
            settings.extra_content_dirs = [d for d in dirs if isinstance(d, str) and d]
        home_page = data.get("xapi_home_page")
        if isinstance(home_page, str) and home_page.startswith(("https://", "http://")):
            settings.xapi_home_page = home_page
        database_url = data.get("database_url")
        if isinstance(database_url, str) and database_url.strip():
            settings.database_url = _without_password(database_url.strip(), path)
        settings.theme, settings.text_scale = _appearance(data)
        settings._other_keys = {k: v for k, v in data.items() if k not in _KNOWN_KEYS}
        return settings

    @property
    def effective_xapi_home_page(self) -> str:
        """The xAPI home page to use: the one set, or the placeholder."""
        return self.xapi_home_page or DEFAULT_XAPI_HOME_PAGE

    def to_json(self) -> dict[str, Any]:
        """The settings as the JSON object written to the file."""
        data = {
            **self._other_keys,
            "last_profile_uid": self.last_profile_uid,
            "extra_content_dirs": list(self.extra_content_dirs),
        }
        if self.theme is not None:
            data["theme"] = self.theme
        if self.text_scale != 1.0:
            data["text_scale"] = self.text_scale
        if self.xapi_home_page is not None:
            data["xapi_home_page"] = self.xapi_home_page
        if self.database_url is not None:
            # Stripped again here: whatever set it, no password is ever written.
            data["database_url"] = _without_password(self.database_url, self.path)
        return data

    def save(self) -> None:
        """Write the settings atomically; raises ``OSError`` when the folder is not writable."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"
        handle, temp_name = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp_name, self.path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        self.problem = None


def read_appearance(data_dir: Path) -> tuple[str | None, float]:
    """The theme and text scale saved in ``data_dir``, read before anything else opens.

    Without side effects: a missing or unreadable file gives the defaults and is left
    for ``Settings.load`` to deal with.
    """
    try:
        data = json.loads((data_dir / SETTINGS_FILE_NAME).read_bytes().decode("utf-8"))
    except (OSError, ValueError):
        return None, 1.0
    return _appearance(data) if isinstance(data, dict) else (None, 1.0)


def _appearance(data: dict[str, Any]) -> tuple[str | None, float]:
    theme = data.get("theme")
    scale = data.get("text_scale")
    low, high = TEXT_SCALE_RANGE
    if isinstance(scale, int | float) and not isinstance(scale, bool):
        text_scale = min(high, max(low, float(scale)))
    else:
        text_scale = 1.0
    return (theme if theme in THEMES else None), text_scale


def _without_password(url: str, path: Path) -> str:
    """``url`` without a password (which is dropped, and said so without repeating it)."""
    from app.services.credentials import mask_password, split_password

    try:
        address = split_password(url)
    except ValueError:
        # Not an address at all: opening it fails later with a clear message. Any text
        # after "user:" is masked rather than kept.
        return mask_password(url)
    if address.password is not None:
        _log.warning(
            "%s: the database address held a password, which was ignored; Think Twice "
            "keeps passwords in the system keyring or asks for them",
            path,
        )
    return address.url


def _set_aside(path: Path, error: Exception) -> str:
    bad = path.with_name(path.name + BAD_SUFFIX)
    try:
        os.replace(path, bad)
    except OSError as move_error:
        _log.warning("settings %s are unreadable (%s) and could not be moved", path, move_error)
        return f"{path} could not be read ({error}); defaults are used"
    _log.warning("settings %s were unreadable (%s); kept as %s", path, error, bad)
    return f"{path} could not be read ({error}); it was kept as {bad} and defaults are used"
