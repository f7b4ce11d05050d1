"""Trainee profiles: the naming rules and the remembered selection."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from app.core.model import ContentLibrary
from app.services.settings import Settings
from app.services.training import MAX_NAME_LENGTH, TrainingService
from app.storage.database import Database
from app.storage.tables import TraineeRow, utc_now


def test_profiles_are_listed_by_name_ignoring_case(training: TrainingService) -> None:
    for name in ("zoë", "Ada", "bob"):
        training.create_profile(name)
    assert [p.display_name for p in training.list_profiles()] == ["Ada", "bob", "zoë"]


def test_fields_are_stripped_and_blank_optionals_become_none(training: TrainingService) -> None:
    profile = training.create_profile("  Ada Example \t", "  ada@example.com ", "   ")
    assert profile.display_name == "Ada Example"
    assert profile.email_or_id == "ada@example.com"
    assert profile.team is None
    assert len(profile.uid) == 32
    assert profile.created_at.utcoffset() is not None


def test_uids_differ_between_profiles(training: TrainingService) -> None:
    first = training.create_profile("First")
    second = training.create_profile("Second")
    assert first.uid != second.uid


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter a name"),
        ("   ", "Enter a name"),
        ("x" * (MAX_NAME_LENGTH + 1), "at most 80 characters"),
        ("Ada\nExample", "control characters"),
    ],
)
def test_bad_names_are_refused_with_a_message(
    training: TrainingService, name: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        training.create_profile(name)
    assert training.list_profiles() == []


def test_a_name_of_exactly_the_limit_is_accepted(training: TrainingService) -> None:
    assert training.create_profile("x" * MAX_NAME_LENGTH).display_name == "x" * 80


def test_names_from_many_scripts_are_accepted(training: TrainingService) -> None:
    # U+200C (zero-width non-joiner) is part of correct Persian spelling.
    for name in ("Zoë Ångström-Łukasz", "李小龍", "می\u200cخواهم"):
        assert training.create_profile(name).display_name == name


@pytest.mark.parametrize("twin", ["Ada Example", "ada example", "ADA EXAMPLE ", " Ada Example"])
def test_a_name_in_use_is_refused_ignoring_case(training: TrainingService, twin: str) -> None:
    training.create_profile("Ada Example")
    with pytest.raises(ValueError, match="already in use"):
        training.create_profile(twin)
    assert len(training.list_profiles()) == 1


def test_names_differing_only_in_non_ascii_case_are_the_same(training: TrainingService) -> None:
    training.create_profile("Émile")
    with pytest.raises(ValueError, match="already in use"):
        training.create_profile("éMILE")


def test_the_name_of_an_archived_trainee_can_be_used_again(
    training: TrainingService, database: Database
) -> None:
    old = training.create_profile("Ada Example")
    with database.write_session() as session:
        row = session.exec(select(TraineeRow).where(TraineeRow.uid == old.uid)).one()
        row.archived_at = utc_now()
        session.add(row)
    new = training.create_profile("Ada Example")
    assert new.uid != old.uid
    assert [p.uid for p in training.list_profiles()] == [new.uid]


def test_too_long_optional_fields_are_refused(training: TrainingService) -> None:
    with pytest.raises(ValueError, match="team"):
        training.create_profile("Ada", team="t" * 81)
    with pytest.raises(ValueError, match="email"):
        training.create_profile("Ada", email_or_id="e" * 255)


def test_get_or_create_finds_the_existing_profile(training: TrainingService) -> None:
    created = training.get_or_create_profile("Ada Example")
    found = training.get_or_create_profile("  ada example ")
    assert found == created
    assert len(training.list_profiles()) == 1


def test_the_selected_profile_is_remembered_across_restarts(
    training: TrainingService, database: Database, library: ContentLibrary, settings: Settings
) -> None:
    assert training.last_profile() is None
    training.create_profile("Ada")
    bob = training.create_profile("Bob")
    training.select_profile(bob)

    restarted = TrainingService(database, library, Settings.load(settings.path))
    assert restarted.last_profile() == bob


def test_a_remembered_profile_that_is_gone_is_not_offered(
    training: TrainingService, database: Database, library: ContentLibrary, settings: Settings
) -> None:
    ada = training.create_profile("Ada")
    training.select_profile(ada)
    with database.write_session() as session:
        row = session.exec(select(TraineeRow).where(TraineeRow.uid == ada.uid)).one()
        row.archived_at = utc_now()
        session.add(row)
    assert training.last_profile() is None

    settings.last_profile_uid = "0" * 32
    assert training.last_profile() is None


def test_selecting_a_profile_survives_an_unwritable_settings_folder(
    database: Database, library: ContentLibrary, tmp_path: Path
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be", encoding="utf-8")
    training = TrainingService(database, library, Settings(path=blocker / "settings.json"))
    ada = training.create_profile("Ada")
    training.select_profile(ada)  # the folder cannot be made: logged, not raised
    assert training.last_profile() == ada  # remembered for this run all the same
