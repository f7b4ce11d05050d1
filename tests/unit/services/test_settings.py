"""Settings: defaults, atomic saves, and a damaged file that never stops the app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.services.settings import SETTINGS_FILE_NAME, Settings


def test_a_missing_file_gives_defaults(tmp_path: Path) -> None:
    settings = Settings.in_data_dir(tmp_path)
    assert settings.path == tmp_path / SETTINGS_FILE_NAME
    assert settings.last_profile_uid is None
    assert settings.extra_content_dirs == []
    assert settings.problem is None


def test_saved_settings_load_again(tmp_path: Path) -> None:
    settings = Settings.in_data_dir(tmp_path / "new-folder")
    settings.last_profile_uid = "a" * 32
    settings.extra_content_dirs = ["/packs/team", "/packs/ops"]
    settings.save()

    loaded = Settings.in_data_dir(tmp_path / "new-folder")
    assert loaded.last_profile_uid == "a" * 32
    assert loaded.extra_content_dirs == ["/packs/team", "/packs/ops"]
    assert json.loads(loaded.path.read_text(encoding="utf-8"))["last_profile_uid"] == "a" * 32


def test_saving_leaves_no_temporary_files(tmp_path: Path) -> None:
    settings = Settings.in_data_dir(tmp_path)
    for uid in ("a" * 32, "b" * 32):
        settings.last_profile_uid = uid
        settings.save()
    assert [p.name for p in tmp_path.iterdir()] == [SETTINGS_FILE_NAME]


@pytest.mark.parametrize(
    "damage",
    [b"{not json", b"[1, 2, 3]", b"\xff\xfe\x00garbage", b"", b'"just a string"'],
)
def test_a_damaged_file_is_kept_aside_and_defaults_used(tmp_path: Path, damage: bytes) -> None:
    path = tmp_path / SETTINGS_FILE_NAME
    path.write_bytes(damage)

    settings = Settings.in_data_dir(tmp_path)

    assert settings.last_profile_uid is None
    assert settings.problem is not None
    assert "settings.json.bad" in settings.problem
    assert (tmp_path / "settings.json.bad").read_bytes() == damage
    assert not path.exists()
    settings.save()  # and a good file can be written again
    assert Settings.in_data_dir(tmp_path).problem is None


def test_values_of_the_wrong_type_fall_back_to_defaults(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILE_NAME).write_text(
        json.dumps({"last_profile_uid": 42, "extra_content_dirs": ["/ok", 7, "", None]}),
        encoding="utf-8",
    )
    settings = Settings.in_data_dir(tmp_path)
    assert settings.last_profile_uid is None
    assert settings.extra_content_dirs == ["/ok"]
    assert settings.problem is None


def test_keys_from_a_newer_version_are_kept(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILE_NAME).write_text(
        json.dumps({"last_profile_uid": "a" * 32, "theme": "dark"}), encoding="utf-8"
    )
    settings = Settings.in_data_dir(tmp_path)
    settings.last_profile_uid = "b" * 32
    settings.save()
    stored = json.loads((tmp_path / SETTINGS_FILE_NAME).read_text(encoding="utf-8"))
    assert stored == {"theme": "dark", "last_profile_uid": "b" * 32, "extra_content_dirs": []}
