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

_KNOWN_KEYS = ("last_profile_uid", "extra_content_dirs", "xapi_home_page")
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
        if self.xapi_home_page is not None:
            data["xapi_home_page"] = self.xapi_home_page
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


def _set_aside(path: Path, error: Exception) -> str:
    bad = path.with_name(path.name + BAD_SUFFIX)
    try:
        os.replace(path, bad)
    except OSError as move_error:
        _log.warning("settings %s are unreadable (%s) and could not be moved", path, move_error)
        return f"{path} could not be read ({error}); defaults are used"
    _log.warning("settings %s were unreadable (%s); kept as %s", path, error, bad)
    return f"{path} could not be read ({error}); it was kept as {bad} and defaults are used"
