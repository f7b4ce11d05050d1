"""Cohorts, completion records, manager events and certificates."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from app.core.completion import CompletionStatus
from app.core.judging import StepAnswer
from app.core.model import ContentLibrary, Decision
from app.core.records import Profile
from app.services.history import EventKind
from app.services.manager import ManagerService, ManagerSession
from app.services.settings import Settings
from app.services.training import TrainingService
from app.storage.database import Database
from app.storage.tables import utc_now
from tests.unit.services.records_support import (
    CLEANUP,
    PASSPHRASE,
    T0,
    Clock,
    ada_passes,
    bob_fails,
    build_library,
    play,
    right,
)

CERTIFICATE_ID = re.compile(r"^TT-[A-Z2-7]{12}$")


@pytest.fixture
def library() -> ContentLibrary:
    return build_library()


@pytest.fixture
def clock() -> Clock:
    # Later than any answer recorded by the tests, which use the real time.
    return Clock(T0 + timedelta(days=3650))


@pytest.fixture
def manager(
    database: Database, library: ContentLibrary, settings: Settings, clock: Clock
) -> ManagerService:
    return ManagerService(database, library, settings, clock=clock)


@pytest.fixture
def session(manager: ManagerService) -> ManagerSession:
    manager.set_passphrase(PASSPHRASE)
    return manager.unlock(PASSPHRASE, "Training lead")


@pytest.fixture
def ada(training: TrainingService, library: ContentLibrary) -> Profile:
    profile = training.create_profile("Ada", "ada@example.com", "Platform")
    ada_passes(training, profile, library)
    return profile


@pytest.fixture
def bob(training: TrainingService, library: ContentLibrary) -> Profile:
    profile = training.create_profile("Bob", "E-2", "Data")
    bob_fails(training, profile, library)
    return profile


# Cohorts


def test_cohort_create_rename_and_names_are_unique_ignoring_case(
    manager: ManagerService, session: ManagerSession
) -> None:
    created = manager.create_cohort(session, "Room A", T0)
    assert (created.name, created.due_at, created.members, created.tracks) == (
        "Room A",
        T0,
        (),
        (),
    )
    with pytest.raises(ValueError, match="already exists"):
        manager.create_cohort(session, "room a")
    with pytest.raises(ValueError, match="cannot be empty"):
        manager.create_cohort(session, "  ")
    renamed = manager.rename_cohort(session, "ROOM A", "Room B")
    assert renamed.name == "Room B"
    with pytest.raises(ValueError, match="no cohort named"):
        manager.cohort(session, "Room A")


def test_members_and_tracks(
    manager: ManagerService, session: ManagerSession, ada: Profile, bob: Profile
) -> None:
    manager.create_cohort(session, "Room A")
    cohort = manager.add_members(session, "Room A", [bob, ada, ada])
    assert [p.display_name for p in cohort.members] == ["Ada", "Bob"]
    cohort = manager.assign_track(session, "Room A", "new-hire", T0)
    cohort = manager.assign_track(session, "Room A", "reading")
    assert [(t.track_id, t.title, t.due_at) for t in cohort.tracks] == [
        ("new-hire", "New hire", T0),
        ("reading", "Reading only", None),
    ]
    with pytest.raises(ValueError, match="no track"):
        manager.assign_track(session, "Room A", "no-such-track")
    cohort = manager.remove_members(session, "Room A", [bob])
    assert [p.display_name for p in cohort.members] == ["Ada"]
    cohort = manager.unassign_track(session, "Room A", "reading")
    assert [t.track_id for t in cohort.tracks] == ["new-hire"]


def test_trainees_see_their_assignments_and_overdue_ones_stand_out(
    manager: ManagerService,
    session: ManagerSession,
    training: TrainingService,
    ada: Profile,
    bob: Profile,
    clock: Clock,
) -> None:
    manager.create_cohort(session, "Room A", due_at=T0 + timedelta(days=30))
    manager.add_members(session, "Room A", [ada, bob])
    manager.assign_track(session, "Room A", "new-hire", T0 + timedelta(days=7))
    manager.assign_track(session, "Room A", "follow-up")
    before = T0 + timedelta(days=1)
    (first, second) = training.assignments(bob, before)
    assert (first.track_id, first.due_at, first.overdue) == (
        "new-hire",
        T0 + timedelta(days=7),
        False,
    )
    assert (second.track_id, second.due_at) == ("follow-up", T0 + timedelta(days=30))
    late = T0 + timedelta(days=60)
    bob_items = {a.track_id: a for a in training.assignments(bob, late)}
    assert bob_items["new-hire"].overdue  # failed and past due
    assert bob_items["new-hire"].status is CompletionStatus.FAILED
    ada_items = {a.track_id: a for a in manager.assignments_for(ada, late)}
    assert not ada_items["new-hire"].overdue  # passed: no longer due
    assert not ada_items["follow-up"].overdue  # passed with 0.9
    assert bob_items["follow-up"].overdue  # failed with 0.675
    manager.archive_cohort(session, "Room A")
    assert training.assignments(bob, late) == []


def test_starting_the_next_group_archives_cohort_and_profiles_but_keeps_records(
    manager: ManagerService,
    session: ManagerSession,
    training: TrainingService,
    settings: Settings,
    ada: Profile,
    bob: Profile,
) -> None:
    carol = training.create_profile("Carol")
    manager.create_cohort(session, "Room A")
    manager.add_members(session, "Room A", [ada, bob])
    manager.assign_track(session, "Room A", "new-hire")
    training.select_profile(bob)

    result = manager.start_next_group(session, "Room A")

    assert result.cohort.archived_at is not None
    assert {p.display_name for p in result.archived_profiles} == {"Ada", "Bob"}
    assert [p.display_name for p in training.list_profiles()] == ["Carol"]
    assert training.last_profile() is None
    assert Settings.in_data_dir(settings.path.parent).last_profile_uid is None
    assert manager.cohorts(session) == []
    assert [c.name for c in manager.cohorts(session, include_archived=True)] == ["Room A"]
    kept = manager.completion_records(session, cohort="Room A")
    assert [(r.trainee_name, r.status, r.trainee_archived) for r in kept] == [
        ("Ada", CompletionStatus.PASSED, True),
        ("Bob", CompletionStatus.FAILED, True),
    ]
    everyone = manager.start_next_group(session, "Room A", all_profiles=True)
    assert [p.display_name for p in everyone.archived_profiles] == [carol.display_name]


# Completion records


def test_completion_records_hold_every_field(
    manager: ManagerService,
    session: ManagerSession,
    training: TrainingService,
    library: ContentLibrary,
    ada: Profile,
    bob: Profile,
) -> None:
    carol = training.create_profile("Carol")
    play(training, carol, library, "cleanup-disk", right(CLEANUP))
    dan = training.create_profile("Dan")
    manager.create_cohort(session, "Room A")
    manager.add_members(session, "Room A", [ada, bob, carol, dan])
    manager.assign_track(session, "Room A", "new-hire", T0)

    records = manager.completion_records(session, cohort="Room A")
    by_name = {r.trainee_name: r for r in records}
    assert [r.trainee_name for r in records] == ["Ada", "Bob", "Carol", "Dan"]
    assert {r.track_id for r in records} == {"new-hire"}
    statuses = {name: r.status for name, r in by_name.items()}
    assert statuses == {
        "Ada": CompletionStatus.PASSED,
        "Bob": CompletionStatus.FAILED,
        "Carol": CompletionStatus.IN_PROGRESS,
        "Dan": CompletionStatus.NOT_STARTED,
    }
    ada_record = by_name["Ada"]
    assert (ada_record.trainee_email_or_id, ada_record.trainee_team) == (
        "ada@example.com",
        "Platform",
    )
    assert (ada_record.cohort, ada_record.track_title) == ("Room A", "New hire")
    assert len(ada_record.content_hash) == 64
    # cleanup 1.0; terraform (0.9 + 0.9) / 2 = 0.9; track (1.0 + 0.9) / 2 = 0.95.
    assert ada_record.score == pytest.approx(0.95)
    assert (ada_record.over_trust_rate, ada_record.under_trust_rate) == (0.0, 0.0)
    assert (ada_record.items_done, ada_record.items_total) == (3, 3)
    assert ada_record.first_started is not None and ada_record.completed_at is not None
    assert ada_record.first_started <= ada_record.completed_at
    assert ada_record.seconds_spent == 0.0
    assert (ada_record.due_at, ada_record.overdue) == (T0, False)
    assert ada_record.certificate_id is None
    bob_record = by_name["Bob"]
    assert bob_record.score == pytest.approx(0.3375)
    assert bob_record.over_trust_rate == pytest.approx(0.5)
    assert bob_record.overdue  # failed, and due long ago
    assert by_name["Dan"].first_started is None


def test_completion_records_without_a_cohort_cover_every_trainee_and_track(
    manager: ManagerService, session: ManagerSession, ada: Profile, bob: Profile
) -> None:
    records = manager.completion_records(session)
    assert len(records) == 2 * 4
    only = manager.completion_records(session, track="reading")
    assert [(r.trainee_name, r.status) for r in only] == [
        ("Ada", CompletionStatus.COMPLETED),
        ("Bob", CompletionStatus.COMPLETED),
    ]
    with pytest.raises(ValueError, match="no track"):
        manager.completion_records(session, track="nope")


def test_since_keeps_only_records_with_activity_since(
    manager: ManagerService, session: ManagerSession, ada: Profile, clock: Clock
) -> None:
    yesterday = utc_now() - timedelta(days=1)
    assert len(manager.completion_records(session, since=yesterday)) == 4
    assert manager.completion_records(session, since=clock.now) == []


# Manager events


def test_a_waiver_is_an_event_and_changes_no_answer(
    manager: ManagerService,
    session: ManagerSession,
    training: TrainingService,
    bob: Profile,
    clock: Clock,
) -> None:
    answers_before = training.answers_for(bob)
    event = manager.waive(session, bob, "new-hire", "  Passed the external course  ")
    assert event.kind is EventKind.WAIVE
    assert (event.actor, event.reason, event.created_at) == (
        "Training lead",
        "Passed the external course",
        clock.now,
    )
    assert manager.events(session, bob) == [event]
    outcome = next(o for o in training.track_outcomes(bob) if o.track_id == "new-hire")
    assert outcome.status is CompletionStatus.WAIVED
    assert training.answers_for(bob) == answers_before
    with pytest.raises(ValueError, match="reason"):
        manager.waive(session, bob, "new-hire", "   ")


def test_a_reset_counts_afresh_and_clears_an_earlier_waiver(
    manager: ManagerService,
    session: ManagerSession,
    training: TrainingService,
    library: ContentLibrary,
    ada: Profile,
    clock: Clock,
) -> None:
    manager.waive(session, ada, "new-hire", "Test waiver")
    clock.advance(60)
    manager.reset(session, ada, "new-hire", "Asked to retake it")
    outcomes = {o.track_id: o for o in training.track_outcomes(ada)}
    # The reset is dated after every answer: nothing counts any more for new-hire.
    assert outcomes["new-hire"].status is CompletionStatus.NOT_STARTED
    assert outcomes["baseline"].status is CompletionStatus.PASSED  # other tracks untouched
    assert len(training.answers_for(ada)) == 3  # nothing was deleted


def test_a_correction_voids_one_answer(
    manager: ManagerService,
    session: ManagerSession,
    training: TrainingService,
    library: ContentLibrary,
) -> None:
    eve = training.create_profile("Eve")
    (wrong,) = play(training, eve, library, "cleanup-disk", StepAnswer(Decision.ACCEPT))
    (good,) = play(training, eve, library, "cleanup-disk", right(CLEANUP))
    assert training.metrics(eve).harmful_accepted == 1
    event = manager.correct(session, eve, wrong.attempt_id, "Recorded on a broken build")
    assert event.details == {"void_attempt_id": wrong.attempt_id}
    metrics = training.metrics(eve)
    assert (metrics.answers, metrics.harmful_accepted) == (1, 0)
    assert [a.attempt_id for a in training.history(eve).counted_answers()] == [good.attempt_id]
    with pytest.raises(ValueError, match="already voided"):
        manager.correct(session, eve, wrong.attempt_id, "again")
    with pytest.raises(ValueError, match="no answer"):
        manager.correct(session, eve, "f" * 32, "not hers")


def test_events_name_unknown_tracks_and_trainees(
    manager: ManagerService, session: ManagerSession, ada: Profile
) -> None:
    with pytest.raises(ValueError, match="no track"):
        manager.waive(session, ada, "no-such-track", "x")
    ghost = Profile(id=4242, uid="g" * 32, display_name="Ghost", created_at=T0)
    with pytest.raises(ValueError, match="no trainee"):
        manager.reset(session, ghost, "new-hire", "x")
    with pytest.raises(ValueError, match="no trainee named"):
        manager.find_profile(session, "Ghost")
    assert manager.find_profile(session, "ADA") == manager.find_profile(session, ada.uid)


# Certificates


def test_certificates_for_passed_tracks_only_and_idempotent(
    manager: ManagerService, session: ManagerSession, ada: Profile, bob: Profile
) -> None:
    issued = manager.issue_certificates(session)
    # Ada passes new-hire, baseline (1.0) and follow-up (0.9) and completes reading (no
    # score, so no certificate); Bob passes nothing.
    assert sorted(c.track_id for c in issued) == ["baseline", "follow-up", "new-hire"]
    assert {c.trainee_name for c in issued} == {"Ada"}
    new_hire = next(c for c in issued if c.track_id == "new-hire")
    assert CERTIFICATE_ID.match(new_hire.certificate_id)
    assert new_hire.score == 0.95
    again = manager.issue_certificates(session)
    assert {c.certificate_id for c in again} == {c.certificate_id for c in issued}
    assert manager.issue_certificate(session, ada, "new-hire") == new_hire
    with pytest.raises(ValueError, match="has not passed"):
        manager.issue_certificate(session, bob, "new-hire")
    records = {
        r.track_id: r for r in manager.completion_records(session) if r.trainee_name == "Ada"
    }
    assert records["new-hire"].certificate_id == new_hire.certificate_id
    assert records["reading"].certificate_id is None


def test_a_certificate_verifies_against_the_database(
    manager: ManagerService, session: ManagerSession, ada: Profile, clock: Clock
) -> None:
    certificate = manager.issue_certificate(session, ada, "new-hire")
    check = manager.verify_certificate(certificate.certificate_id.lower())
    assert check.valid, check.problems
    assert check.certificate == certificate
    given = manager.verify_certificate(certificate.certificate_id, certificate.verification_hash)
    assert given.valid
    # Later events do not undo what the certificate was issued on.
    clock.advance(60)
    manager.reset(session, ada, "new-hire", "retake")
    assert manager.verify_certificate(certificate.certificate_id).valid


def test_a_wrong_hash_or_unknown_id_does_not_verify(
    manager: ManagerService, session: ManagerSession, ada: Profile
) -> None:
    certificate = manager.issue_certificate(session, ada, "new-hire")
    wrong = manager.verify_certificate(certificate.certificate_id, "0" * 64)
    assert not wrong.valid
    assert "not the one issued" in wrong.problems[0]
    unknown = manager.verify_certificate("TT-AAAAAAAAAAAA")
    assert not unknown.valid and unknown.certificate is None


def test_a_certificate_changed_with_plain_sql_fails(
    manager: ManagerService, session: ManagerSession, ada: Profile, database_path: Path
) -> None:
    certificate = manager.issue_certificate(session, ada, "new-hire")
    with sqlite3.connect(database_path) as connection:
        connection.execute("UPDATE certificate SET score = 1.0")
    check = manager.verify_certificate(certificate.certificate_id)
    assert not check.valid
    assert any("verification hash" in problem for problem in check.problems)
    broken = manager.verify_records()
    assert broken is not None
    assert broken.record_id == f"certificate {certificate.certificate_id}"


def test_a_certificate_whose_records_were_changed_fails(
    manager: ManagerService, session: ManagerSession, ada: Profile, database_path: Path
) -> None:
    certificate = manager.issue_certificate(session, ada, "new-hire")
    with sqlite3.connect(database_path) as connection:
        connection.execute("UPDATE answer SET seconds = 99 WHERE chain_seq = 1")
    check = manager.verify_certificate(certificate.certificate_id)
    assert not check.valid
    assert "do not verify" in check.problems[0]


def test_a_certificate_for_changed_content_is_noted_not_recomputed(
    database: Database,
    library: ContentLibrary,
    settings: Settings,
    clock: Clock,
    manager: ManagerService,
    session: ManagerSession,
    ada: Profile,
) -> None:
    from dataclasses import replace

    certificate = manager.issue_certificate(session, ada, "new-hire")
    changed = replace(
        library,
        scenarios={
            **library.scenarios,
            "cleanup-disk": replace(library.scenarios["cleanup-disk"], version=2),
        },
    )
    later = ManagerService(database, changed, settings, clock=clock)
    check = later.verify_certificate(certificate.certificate_id)
    assert check.valid
    assert "changed since" in check.notes[0]
