"""Records bundles: round trip, idempotent import, refusal of tampered files, conflicts."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.chain import GENESIS, link_hash
from app.core.model import ContentLibrary
from app.core.records import Profile
from app.services.bundles import BundleRefused, bundle_hash
from app.services.manager import ManagerService, ManagerSession
from app.services.settings import Settings
from app.services.training import TrainingService
from app.storage.database import Database, open_database
from app.storage.ledger import answer_payload, event_payload
from app.storage.tables import AnswerRow, EventRow
from tests.unit.services.records_support import (
    CLEANUP,
    PASSPHRASE,
    ada_passes,
    bob_fails,
    build_library,
    play,
    right,
)


@pytest.fixture
def library() -> ContentLibrary:
    return build_library()


@pytest.fixture
def source_manager(
    database: Database, library: ContentLibrary, settings: Settings
) -> ManagerService:
    return ManagerService(database, library, settings)


@pytest.fixture
def ada(
    training: TrainingService,
    library: ContentLibrary,
    source_manager: ManagerService,
) -> Profile:
    profile = training.create_profile("Ada", "ada@example.com", "Platform")
    ada_passes(training, profile, library)
    source_manager.set_passphrase(PASSPHRASE)
    session = source_manager.unlock(PASSPHRASE, "Lead")
    source_manager.waive(session, profile, "reading", "read it on paper")
    return profile


@pytest.fixture
def other_path(tmp_path: Path) -> Path:
    return tmp_path / "other" / "thinktwice.db"


@pytest.fixture
def other(other_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{other_path}", backup_dir=None)
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def target(other: Database, library: ContentLibrary, tmp_path: Path) -> ManagerService:
    return ManagerService(other, library, Settings.in_data_dir(tmp_path / "other"))


@pytest.fixture
def target_session(target: ManagerService) -> ManagerSession:
    target.set_passphrase(PASSPHRASE)
    return target.unlock(PASSPHRASE)


def _bundle(training: TrainingService, profile: Profile, *, as_zip: bool = False) -> bytes:
    out = io.BytesIO()
    training.export_bundle(profile, out, as_zip=as_zip)
    return out.getvalue()


def _rows(path: Path, statement: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(statement).fetchall()


def _counts(path: Path) -> tuple[int, ...]:
    return tuple(
        _rows(path, f"SELECT count(*) FROM {table}")[0][0]
        for table in ("trainee", "answer", "event", "lesson_read")
    )


def test_a_bundle_round_trips_into_a_fresh_database(
    training: TrainingService,
    ada: Profile,
    target: ManagerService,
    target_session: ManagerSession,
    database_path: Path,
    other_path: Path,
) -> None:
    data = _bundle(training, ada)
    calls: list[tuple[int, int]] = []
    report = target.import_bundle(
        target_session, data, lambda done, total: calls.append((done, total))
    )

    assert (report.trainees_created, report.answers_added, report.events_added) == (1, 3, 1)
    assert (report.lessons_added, report.duplicates, report.conflicts) == (1, 0, [])
    assert calls[0] == (0, 5) and calls[-1] == (5, 5)
    query = "SELECT attempt_id, record_hash, chain_seq FROM answer ORDER BY chain_seq"
    assert _rows(other_path, query) == _rows(database_path, query)
    query = "SELECT event_id, reason, actor, record_hash FROM event"
    assert _rows(other_path, query) == _rows(database_path, query)
    assert _rows(other_path, "SELECT uid, display_name, email_or_id, chain_head FROM trainee") == (
        _rows(database_path, "SELECT uid, display_name, email_or_id, chain_head FROM trainee")
    )
    assert target.verify_records() is None
    (imported,) = target.profiles(target_session)
    records = {r.track_id: r.status.value for r in target.completion_records(target_session)}
    assert records == {
        "new-hire": "passed",
        "baseline": "passed",
        "follow-up": "passed",
        "reading": "waived",
    }
    assert imported.uid == ada.uid


def test_importing_twice_changes_nothing(
    training: TrainingService,
    ada: Profile,
    target: ManagerService,
    target_session: ManagerSession,
    other_path: Path,
) -> None:
    data = _bundle(training, ada)
    target.import_bundle(target_session, data)
    before = (_counts(other_path), _rows(other_path, "SELECT * FROM answer ORDER BY id"))
    report = target.import_bundle(target_session, data)
    assert not report.changed
    assert (report.duplicates, report.conflicts) == (5, [])
    assert (_counts(other_path), _rows(other_path, "SELECT * FROM answer ORDER BY id")) == before


def test_a_zipped_bundle_imports_the_same(
    training: TrainingService,
    ada: Profile,
    target: ManagerService,
    target_session: ManagerSession,
) -> None:
    data = _bundle(training, ada, as_zip=True)
    assert zipfile.is_zipfile(io.BytesIO(data))
    report = target.import_bundle(target_session, data)
    assert report.answers_added == 3


def test_new_records_on_both_machines_merge_into_intact_chains(
    training: TrainingService,
    library: ContentLibrary,
    ada: Profile,
    other: Database,
    target: ManagerService,
    target_session: ManagerSession,
    tmp_path: Path,
) -> None:
    target.import_bundle(target_session, _bundle(training, ada))
    # Ada goes on on both machines; the second bundle brings only the new answer along.
    remote = TrainingService(other, library, Settings.in_data_dir(tmp_path / "other"))
    (here,) = target.profiles(target_session)
    play(remote, here, library, "cleanup-disk", right(CLEANUP))
    (later,) = play(training, ada, library, "cleanup-disk", right(CLEANUP, confidence=60))
    report = target.import_bundle(target_session, _bundle(training, ada))
    assert (report.answers_added, report.duplicates, report.conflicts) == (1, 5, [])
    assert later.attempt_id in {a.attempt_id for a in remote.answers_for(here)}
    assert target.verify_records() is None


def _edit(data: bytes, change: Any, *, rechain: bool, rehash: bool = True) -> bytes:
    body = json.loads(data)
    change(body)
    if rechain:
        for trainee in body["trainees"]:
            _rechain(trainee)
    if rehash:
        body["bundle_hash"] = bundle_hash(body)
    return json.dumps(body).encode("utf-8")


def _rechain(trainee: dict[str, Any]) -> None:
    """Recompute a trainee's chain in the bundle, as a forger with the code could."""
    from pydantic import TypeAdapter

    from app.services.bundles import BundleAnswer, BundleEvent

    items: list[tuple[int, dict[str, Any], dict[str, object]]] = []
    for answer in trainee["answers"]:
        parsed = TypeAdapter(BundleAnswer).validate_python(answer).model_dump()
        items.append(
            (
                answer["chain_seq"],
                answer,
                answer_payload(AnswerRow(trainee_id=0, **parsed), trainee["uid"]),
            )
        )
    for event in trainee["events"]:
        parsed = TypeAdapter(BundleEvent).validate_python(event).model_dump()
        items.append(
            (
                event["chain_seq"],
                event,
                event_payload(EventRow(trainee_id=0, **parsed), trainee["uid"]),
            )
        )
    previous = GENESIS
    for _, item, payload in sorted(items, key=lambda entry: entry[0]):
        item["previous_hash"] = previous
        item["record_hash"] = previous = link_hash(previous, payload)
    trainee["chain"]["head"] = previous


def _set_confidence(body: dict[str, Any]) -> None:
    body["trainees"][0]["answers"][0]["confidence"] = 55


def test_a_tampered_bundle_is_refused_and_nothing_written(
    training: TrainingService,
    ada: Profile,
    target: ManagerService,
    target_session: ManagerSession,
    other_path: Path,
) -> None:
    data = _bundle(training, ada)
    unchained = _edit(data, _set_confidence, rechain=False)
    with pytest.raises(BundleRefused, match="do not verify"):
        target.import_bundle(target_session, unchained)
    unhashed = _edit(data, _set_confidence, rechain=True, rehash=False)
    with pytest.raises(BundleRefused, match="hash does not match"):
        target.import_bundle(target_session, unhashed)

    def drop_middle(body: dict[str, Any]) -> None:
        del body["trainees"][0]["answers"][1]

    with pytest.raises(BundleRefused, match="do not verify"):
        target.import_bundle(target_session, _edit(data, drop_middle, rechain=False))
    assert _counts(other_path) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not json at all", "not JSON"),
        (b'{"format": "something else"}', "not a Think Twice records bundle"),
        (b'{"format": "thinktwice-records-bundle", "version": 99}', "version 99"),
        (b"PK\x03\x04 broken zip", "zip file"),
    ],
)
def test_files_that_are_not_bundles_are_refused(
    target: ManagerService, target_session: ManagerSession, data: bytes, message: str
) -> None:
    with pytest.raises(BundleRefused, match=message):
        target.import_bundle(target_session, data)


def test_a_bundle_with_impossible_values_is_refused_even_when_chained(
    training: TrainingService,
    ada: Profile,
    target: ManagerService,
    target_session: ManagerSession,
) -> None:
    def impossible(body: dict[str, Any]) -> None:
        body["trainees"][0]["answers"][0]["confidence"] = 500

    def hostile_id(body: dict[str, Any]) -> None:
        body["trainees"][0]["answers"][0]["attempt_id"] = "../../etc"

    data = _bundle(training, ada)
    for change in (impossible, hostile_id):
        with pytest.raises(BundleRefused, match="damaged"):
            target.import_bundle(target_session, _edit(data, change, rechain=False))


def test_conflicts_are_reported_and_nothing_is_overwritten(
    training: TrainingService,
    ada: Profile,
    target: ManagerService,
    target_session: ManagerSession,
    other_path: Path,
) -> None:
    data = _bundle(training, ada)
    target.import_bundle(target_session, data)
    before = _rows(other_path, "SELECT * FROM answer ORDER BY id")

    def rename_and_change(body: dict[str, Any]) -> None:
        body["trainees"][0]["display_name"] = "Ada Lovelace"
        _set_confidence(body)

    forged = _edit(data, rename_and_change, rechain=True)
    report = target.import_bundle(target_session, forged)

    assert not report.changed
    assert len(report.conflicts) == 2
    assert "'Ada' here but 'Ada Lovelace'" in report.conflicts[0]
    attempt_id = json.loads(data)["trainees"][0]["answers"][0]["attempt_id"]
    assert attempt_id in report.conflicts[1]
    assert "different content" in report.conflicts[1]
    assert _rows(other_path, "SELECT * FROM answer ORDER BY id") == before
    assert _rows(other_path, "SELECT display_name FROM trainee") == [("Ada",)]
    assert target.verify_records() is None


def test_a_new_trainee_with_a_name_in_use_is_added_beside_and_noted(
    training: TrainingService,
    library: ContentLibrary,
    ada: Profile,
    other: Database,
    target: ManagerService,
    target_session: ManagerSession,
    tmp_path: Path,
) -> None:
    TrainingService(other, library, Settings.in_data_dir(tmp_path / "other")).create_profile("ADA")
    report = target.import_bundle(target_session, _bundle(training, ada))
    assert report.trainees_created == 1
    assert "also named 'ADA'" in report.notes[0]


def test_a_managers_bundle_holds_everyone(
    training: TrainingService,
    library: ContentLibrary,
    ada: Profile,
    source_manager: ManagerService,
    target: ManagerService,
    target_session: ManagerSession,
) -> None:
    bob = training.create_profile("Bob")
    bob_fails(training, bob, library)
    session = source_manager.unlock(PASSPHRASE)
    out = io.BytesIO()
    written = source_manager.export_bundle(session, out)
    assert written == 5 + 3 + 1  # Ada: 3 answers, 1 event, 1 lesson; Bob: 3 answers, 1 lesson
    report = target.import_bundle(target_session, out.getvalue())
    assert report.trainees_created == 2
    assert {p.display_name for p in target.profiles(target_session)} == {"Ada", "Bob"}
