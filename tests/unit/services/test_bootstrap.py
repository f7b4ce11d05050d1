"""Putting the app together from a data folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.services.bootstrap import (
    AppConfig,
    content_dirs,
    default_database_url,
    open_context,
    open_records,
)
from app.services.settings import Settings


def test_the_default_database_is_a_sqlite_file_in_the_data_folder(tmp_path: Path) -> None:
    assert default_database_url(tmp_path) == f"sqlite:///{tmp_path}/thinktwice.db"


def test_open_records_creates_the_folder_and_the_database(tmp_path: Path) -> None:
    data = tmp_path / "state"
    with open_records(AppConfig(data_dir=data)) as database:
        assert database.sqlite_path == data / "thinktwice.db"
        assert database.backup_dir == data / "backups"
    assert (data / "thinktwice.db").is_file()


def test_a_database_url_replaces_the_default_file(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.db"
    config = AppConfig(data_dir=tmp_path / "state", database_url=f"sqlite:///{elsewhere}")
    with open_records(config) as database:
        assert database.sqlite_path == elsewhere
    assert not (tmp_path / "state" / "thinktwice.db").exists()


def test_content_folders_come_from_settings_then_config_once_each(tmp_path: Path) -> None:
    settings = Settings.in_data_dir(tmp_path)
    settings.extra_content_dirs = [str(tmp_path / "team"), str(tmp_path / "ops")]
    config = AppConfig(data_dir=tmp_path, content_dirs=(tmp_path / "ops", tmp_path / "extra"))
    assert content_dirs(config, settings) == [
        tmp_path / "team",
        tmp_path / "ops",
        tmp_path / "extra",
    ]


def test_open_context_loads_builtin_content_and_opens_the_database(tmp_path: Path) -> None:
    pytest.importorskip("app.content.loader")
    with open_context(AppConfig(data_dir=tmp_path / "state")) as context:
        assert "core" in context.library.packs
        profile = context.training.get_or_create_profile("Ada")
        context.training.select_profile(profile)
    with open_context(AppConfig(data_dir=tmp_path / "state")) as context:
        assert context.training.last_profile() == profile
    assert (tmp_path / "state" / "settings.json").is_file()


def test_importing_bootstrap_does_not_load_the_database_layer() -> None:
    program = (
        "import sys, app.services.bootstrap\n"
        "print(sorted(m for m in ('sqlalchemy', 'sqlmodel', 'alembic') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "[]", result.stderr
