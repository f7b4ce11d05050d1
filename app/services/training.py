"""The training service: profiles, answers and progress, for the interface and the CLI.

Every method is one short database session, and every answer is written in its own
committed transaction before the method returns, linked into the trainee's hash chain
(``app.storage.ledger``). Methods take and return the core's plain values
(``app.core.records``), never database rows. Everything here concerns the one trainee
passed in: reading other trainees' records is for the manager service.
"""

from __future__ import annotations

import logging
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy.sql.dml import UpdateBase
from sqlmodel import Session, col, select

from app.core.completion import CompletionStatus, TrackOutcome
from app.core.judging import StepAnswer, StepOutcome, judge
from app.core.model import ContentLibrary, Scenario, Step
from app.core.records import (
    AnswerRecord,
    Profile,
    TrackProgress,
    TraineeProgress,
    scenario_progress,
    track_progress,
)
from app.core.review import ReviewItem, due_items, pick_review_scenario, review_items
from app.core.scoring import TrustMetrics, trust_metrics
from app.services.completion import DONE_STATUSES
from app.services.history import TraineeHistory, assigned_tracks, load_history
from app.storage.ledger import (
    answer_payload,
    append_answer,
    lock_for_answer,
    payload_matches,
)
from app.storage.tables import (
    CONTENT_ID_LENGTH,
    EMAIL_OR_ID_LENGTH,
    NAME_LENGTH,
    TEAM_LENGTH,
    UID_LENGTH,
    AnswerRow,
    LessonReadRow,
    TraineeRow,
    utc_now,
)

if TYPE_CHECKING:
    from app.services.completion import CompletionRecord
    from app.services.exports import Detail, ExportFormat
    from app.services.exports import ProgressCallback as ExportProgress
    from app.services.settings import Settings
    from app.storage.database import Database

_log = logging.getLogger(__name__)

MAX_NAME_LENGTH = NAME_LENGTH
# Any constant works; it must only differ from other advisory lock keys of Think Twice.
_PROFILE_NAMES_LOCK_KEY = 0x7417_0002
BASELINE_TRACK_ID = "baseline"
FOLLOW_UP_TRACK_ID = "follow-up"


class UnknownTraineeError(ValueError):
    """The trainee an answer belongs to is not on this database."""


class AttemptConflictError(ValueError):
    """A different answer with the same attempt id is already stored."""


@dataclass(frozen=True, slots=True)
class JudgedAnswer:
    """An answer judged and ready to keep, before anything is written.

    ``values`` are the stored answer's fields (all but its row id and chain place), with
    the attempt id and answer time fixed, so the same answer can be offered again later
    (from the outbox) and be recognised. ``trainee_uid`` names the trainee on any database.
    """

    values: Mapping[str, Any]
    trainee_uid: str
    outcome: StepOutcome

    @property
    def attempt_id(self) -> str:
        """The answer's attempt id."""
        return str(self.values["attempt_id"])

    def record(self) -> AnswerRecord:
        """The answer as the core's plain value (as it will read once stored)."""
        return AnswerRow(**self.values, chain_seq=0, previous_hash="", record_hash="").to_record()


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """What :meth:`TrainingService.store_answer` did: the answer as stored, and whether it
    was there already (an earlier try had been committed)."""

    record: AnswerRecord
    already_stored: bool


@dataclass(frozen=True, slots=True)
class ReviewSuggestion:
    """A review item that is due, and the scenario to practise it with."""

    item: ReviewItem
    scenario: Scenario


@dataclass(frozen=True, slots=True)
class MeasureChange:
    """One measure before (baseline) and after (follow-up), and the change."""

    name: str
    baseline: float | None
    follow_up: float | None

    @property
    def change(self) -> float | None:
        """Follow-up minus baseline, when both are known."""
        if self.baseline is None or self.follow_up is None:
            return None
        return self.follow_up - self.baseline


@dataclass(frozen=True, slots=True)
class BaselineComparison:
    """The measures over the ``baseline`` track's scenarios against the ``follow-up`` one's.

    Either side is ``None`` while the library has no such track or the trainee has not
    answered any of its scenarios.
    """

    baseline: TrustMetrics | None
    follow_up: TrustMetrics | None

    @property
    def changes(self) -> tuple[MeasureChange, ...]:
        """Score, over-trust, under-trust and Brier score, before and after."""

        def pick(metrics: TrustMetrics | None, name: str) -> float | None:
            if metrics is None:
                return None
            value: float | None = getattr(metrics, name)
            return value

        return tuple(
            MeasureChange(name, pick(self.baseline, name), pick(self.follow_up, name))
            for name in ("score", "over_trust_rate", "under_trust_rate", "brier")
        )


@dataclass(frozen=True, slots=True)
class Assignment:
    """A track a trainee's cohort assigned, for the home screen."""

    track_id: str
    track_title: str
    cohort_name: str
    due_at: datetime | None
    status: CompletionStatus
    overdue: bool


class TrainingService:
    """Trainee profiles, recorded answers and the progress derived from them."""

    def __init__(self, database: Database, library: ContentLibrary, settings: Settings) -> None:
        self._database = database
        self._library = library
        self._settings = settings

    @property
    def library(self) -> ContentLibrary:
        """The content this service judges answers against."""
        return self._library

    # Profiles

    def list_profiles(self) -> list[Profile]:
        """Every trainee not archived, by name (case-insensitive)."""
        with self._database.read_session() as session:
            rows = session.exec(select(TraineeRow).where(col(TraineeRow.archived_at).is_(None)))
            profiles = [row.to_profile() for row in rows]
        return sorted(profiles, key=lambda p: (p.display_name.casefold(), p.display_name, p.id))

    def create_profile(
        self, display_name: str, email_or_id: str | None = None, team: str | None = None
    ) -> Profile:
        """Add a trainee; raises ``ValueError`` with a message to show when a field is wrong.

        Surrounding spaces are removed. The name is required, at most
        :data:`MAX_NAME_LENGTH` characters, and must differ (ignoring case) from the name of
        every trainee who is not archived.
        """
        name = _clean_name(display_name)
        row = TraineeRow(
            uid=uuid.uuid4().hex,
            display_name=name,
            email_or_id=_clean_optional(email_or_id, EMAIL_OR_ID_LENGTH, "The email or id"),
            team=_clean_optional(team, TEAM_LENGTH, "The team name"),
            created_at=utc_now(),
        )
        with self._database.write_session() as session:
            # Check and insert must be one step. SQLite's write transaction (BEGIN
            # IMMEDIATE) already is; on PostgreSQL a lock held until commit makes it one.
            if self._database.dialect_name == "postgresql":
                session.connection().exec_driver_sql(
                    f"SELECT pg_advisory_xact_lock({_PROFILE_NAMES_LOCK_KEY})"
                )
            if _find_active_by_name(session, name) is not None:
                raise ValueError(_name_taken_message(name))
            session.add(row)
            session.flush()
            profile = row.to_profile()
        _log.info("created trainee profile %s", profile.uid)
        return profile

    def get_or_create_profile(self, display_name: str) -> Profile:
        """The active trainee with this name (ignoring case), created if there is none."""
        name = _clean_name(display_name)
        with self._database.read_session() as session:
            found = _find_active_by_name(session, name)
            if found is not None:
                return found.to_profile()
        try:
            return self.create_profile(name)
        except ValueError:
            # Someone else created it between our look and our insert.
            with self._database.read_session() as session:
                found = _find_active_by_name(session, name)
                if found is None:
                    raise
                return found.to_profile()

    def profile_named(self, display_name: str) -> Profile | None:
        """The active trainee with this name (ignoring case), or ``None``; never creates one."""
        with self._database.read_session() as session:
            found = _find_active_by_name(session, display_name.strip())
            return None if found is None else found.to_profile()

    def sole_profile(self) -> Profile | None:
        """The only trainee on this database (archived ones count), or ``None``.

        On a trainee's own machine their records are the only ones, so exporting them is
        not exporting other trainees' records.
        """
        with self._database.read_session() as session:
            rows = session.exec(select(TraineeRow).limit(2)).all()
            return rows[0].to_profile() if len(rows) == 1 else None

    def last_profile(self) -> Profile | None:
        """The trainee selected last time, if still present and not archived."""
        uid = self._settings.last_profile_uid
        if not uid:
            return None
        with self._database.read_session() as session:
            row = session.exec(
                select(TraineeRow).where(
                    TraineeRow.uid == uid, col(TraineeRow.archived_at).is_(None)
                )
            ).first()
            return None if row is None else row.to_profile()

    def select_profile(self, profile: Profile) -> None:
        """Remember ``profile`` as the one to select at the next start."""
        self._settings.last_profile_uid = profile.uid
        try:
            self._settings.save()
        except OSError as error:
            # Only a convenience is lost; training goes on.
            _log.warning("could not save settings to %s: %s", self._settings.path, error)

    # Answers

    def new_play_id(self) -> str:
        """A fresh id grouping the steps of one play of a scenario."""
        return uuid.uuid4().hex

    def record_answer(
        self,
        profile: Profile,
        scenario: Scenario,
        step: Step,
        answer: StepAnswer,
        play_id: str,
        *,
        attempt_id: str | None = None,
        answered_at: datetime | None = None,
    ) -> tuple[AnswerRecord, StepOutcome]:
        """Judge ``answer`` and keep it; returns only once it is committed.

        ``attempt_id`` and ``answered_at`` (default: a new id, and now) may be fixed by the
        caller before the first try, so that trying again is harmless: an answer whose
        attempt id is already stored with the same content is not stored a second time
        (see :meth:`store_answer`).

        Raises ``ValueError`` when the step is not part of the scenario or the answer does
        not fit the step, and a :class:`~app.storage.errors.StorageError` when it could not
        be saved (then nothing of it was saved).
        """
        judged = self.judge_answer(
            profile,
            scenario,
            step,
            answer,
            play_id,
            attempt_id=attempt_id,
            answered_at=answered_at,
        )
        try:
            stored = self.store_answer(judged.values, judged.trainee_uid)
        except UnknownTraineeError:
            raise ValueError(f"there is no trainee {profile.display_name!r}") from None
        return stored.record, judged.outcome

    def judge_answer(
        self,
        profile: Profile,
        scenario: Scenario,
        step: Step,
        answer: StepAnswer,
        play_id: str,
        *,
        attempt_id: str | None = None,
        answered_at: datetime | None = None,
    ) -> JudgedAnswer:
        """Judge ``answer`` and build what :meth:`store_answer` keeps; writes nothing.

        Raises ``ValueError`` as :meth:`record_answer` does.
        """
        try:
            if scenario.step(step.id) != step:
                raise KeyError(step.id)
        except KeyError:
            raise ValueError(f"step {step.id!r} is not part of scenario {scenario.id!r}") from None
        if not play_id or len(play_id) > UID_LENGTH:
            raise ValueError(f"a play id must have 1 to {UID_LENGTH} characters")
        attempt = attempt_id if attempt_id is not None else uuid.uuid4().hex
        if not attempt or len(attempt) > UID_LENGTH:
            raise ValueError(f"an attempt id must have 1 to {UID_LENGTH} characters")
        moment = answered_at if answered_at is not None else utc_now()
        if moment.tzinfo is None:
            raise ValueError("the time of an answer must carry a time zone")
        known_checks = {check.label for check in step.checks}
        unknown = [label for label in answer.checks_made if label not in known_checks]
        if unknown:
            raise ValueError(f"step {step.id!r} offers no check {unknown[0]!r}")
        outcome = judge(step, answer)
        revision_text = (
            step.revisions[answer.revision_index].text
            if answer.revision_index is not None
            else None
        )
        values: dict[str, Any] = {
            "attempt_id": attempt,
            "play_id": play_id,
            "trainee_id": profile.id,
            "scenario_id": scenario.id,
            "scenario_version": scenario.version,
            "pack_id": scenario.pack_id,
            "step_id": step.id,
            "decision": answer.decision.value,
            "expected": step.answer.value,
            "revision_index": answer.revision_index,
            "revision_text": revision_text,
            "correct": outcome.correct,
            "verdict": outcome.verdict.value,
            "flags_chosen": None if answer.flags is None else sorted(answer.flags),
            "flags_missed": list(outcome.flags_missed),
            "flags_true": list(step.flags),
            "confidence": answer.confidence,
            "seconds": answer.seconds,
            "answered_at": moment,
            "checks_made": list(answer.checks_made),
            "check_minutes": answer.check_minutes,
            "hint_taken": answer.hint_taken,
        }
        return JudgedAnswer(values=values, trainee_uid=profile.uid, outcome=outcome)

    def store_answer(
        self, values: Mapping[str, Any], trainee_uid: str | None = None
    ) -> StoredAnswer:
        """Keep a judged answer (``JudgedAnswer.values``) exactly once, in its own commit.

        The answer joins its trainee's hash chain inside the write transaction. When its
        attempt id is already stored with the same content (an earlier try was committed
        but its caller never heard), nothing is written and ``already_stored`` is set.
        ``trainee_uid``, when given, must name the trainee the answer's ``trainee_id`` is
        on this database, so an answer is never kept for someone else.

        Raises ``UnknownTraineeError`` or ``AttemptConflictError`` (both ``ValueError``s) when the
        answer cannot be kept here at all, and a
        :class:`~app.storage.errors.StorageError` when it could not be saved now.
        """
        row = AnswerRow(
            **values,
            # Placeholders: append_answer() sets the chain place inside the write transaction.
            chain_seq=0,
            previous_hash="",
            record_hash="",
        )
        with self._database.write_session() as session:
            try:
                chain, existing_id = lock_for_answer(session, row.trainee_id, row.attempt_id)
            except LookupError:
                raise UnknownTraineeError(f"there is no trainee with id {row.trainee_id}") from None
            if trainee_uid is not None and chain.trainee_uid != trainee_uid:
                raise UnknownTraineeError(
                    f"the answer {row.attempt_id} belongs to trainee {trainee_uid}, who is "
                    "not on this database"
                )
            if existing_id is not None:
                existing = session.get(AnswerRow, existing_id)
                if (
                    existing is not None
                    and existing.trainee_id == chain.trainee_id
                    and payload_matches(
                        answer_payload(existing, chain.trainee_uid),
                        answer_payload(row, chain.trainee_uid),
                    )
                ):
                    return StoredAnswer(existing.to_record(), already_stored=True)
                raise AttemptConflictError(
                    f"another answer with the attempt id {row.attempt_id} is already stored; "
                    "this one was not kept over it"
                )
            append_answer(session, chain, row)
        return StoredAnswer(row.to_record(), already_stored=False)

    def answers_for(self, profile: Profile) -> list[AnswerRecord]:
        """Every answer the trainee submitted, oldest first."""
        with self._database.read_session() as session:
            rows = session.exec(
                select(AnswerRow)
                .where(AnswerRow.trainee_id == profile.id)
                .order_by(col(AnswerRow.answered_at), col(AnswerRow.id))
            )
            return [row.to_record() for row in rows]

    # Progress

    def progress(self, profile: Profile) -> TraineeProgress:
        """The trainee's progress on every scenario of the library, and the lessons read."""
        by_scenario: dict[str, list[AnswerRecord]] = defaultdict(list)
        for record in self.answers_for(profile):
            by_scenario[record.scenario_id].append(record)
        with self._database.read_session() as session:
            lessons_read = set(
                session.exec(
                    select(LessonReadRow.lesson_id).where(LessonReadRow.trainee_id == profile.id)
                )
            )
        return TraineeProgress(
            scenarios={
                scenario_id: scenario_progress(scenario, by_scenario.get(scenario_id, ()))
                for scenario_id, scenario in self._library.scenarios.items()
            },
            lessons_read=lessons_read,
        )

    def track_progress(self, profile: Profile) -> list[TrackProgress]:
        """How far the trainee is through each track, in the library's order."""
        progress = self.progress(profile)
        return [
            track_progress(track, progress, self._library.scenarios)
            for track in self._library.tracks.values()
        ]

    def history(self, profile: Profile) -> TraineeHistory:
        """The trainee's answers, lessons read and manager events."""
        with self._database.read_session() as session:
            try:
                return load_history(session, profile.id)
            except LookupError:
                raise ValueError(f"there is no trainee {profile.display_name!r}") from None

    def metrics(self, profile: Profile) -> TrustMetrics:
        """Score, trust, calibration and detection measures over the trainee's answers."""
        return trust_metrics(self.history(profile).counted_answers())

    def review_queue(self, profile: Profile, now: datetime | None = None) -> list[ReviewSuggestion]:
        """The review items due at ``now`` (default: now), most overdue first, each with a
        scenario to practise it in (items no scenario fits are left out)."""
        return self._review(self.history(profile).counted_answers(), now)

    def _review(
        self, answers: Sequence[AnswerRecord], now: datetime | None
    ) -> list[ReviewSuggestion]:
        moment = now or utc_now()
        suggestions = []
        for item in due_items(review_items(answers), moment):
            scenario = pick_review_scenario(item, self._library.scenarios, answers)
            if scenario is not None:
                suggestions.append(ReviewSuggestion(item, scenario))
        return suggestions

    def track_outcomes(self, profile: Profile) -> list[TrackOutcome]:
        """The trainee's standing on each track (resets and waivers applied), library order."""
        return self._outcomes(self.history(profile))

    def _outcomes(self, history: TraineeHistory) -> list[TrackOutcome]:
        return [
            history.outcome(track, self._library.scenarios)
            for track in self._library.tracks.values()
        ]

    def baseline_followup(self, profile: Profile) -> BaselineComparison:
        """The measures over the baseline track's scenarios against the follow-up's."""
        return self._comparison(self.history(profile).counted_answers())

    def _comparison(self, answers: Sequence[AnswerRecord]) -> BaselineComparison:
        return BaselineComparison(
            baseline=self._metrics_over_track(BASELINE_TRACK_ID, answers),
            follow_up=self._metrics_over_track(FOLLOW_UP_TRACK_ID, answers),
        )

    def _metrics_over_track(
        self, track_id: str, answers: Sequence[AnswerRecord]
    ) -> TrustMetrics | None:
        track = self._library.tracks.get(track_id)
        if track is None:
            return None
        scenario_ids = set(track.scenario_ids)
        chosen = [a for a in answers if a.scenario_id in scenario_ids]
        return trust_metrics(chosen) if chosen else None

    def assignments(self, profile: Profile, now: datetime | None = None) -> list[Assignment]:
        """The tracks the trainee's active cohorts assigned, soonest due first.

        A track assigned by several cohorts appears once, with its earliest due date.
        ``overdue`` is set when the due date has passed and the track is not completed,
        passed or waived.
        """
        moment = now or utc_now()
        with self._database.read_session() as session:
            assigned = assigned_tracks(session, [profile.id]).get(profile.id, [])
        history = self.history(profile)
        chosen: dict[str, tuple[str, datetime | None]] = {}
        for entry in assigned:
            if entry.cohort_archived or entry.track_id not in self._library.tracks:
                continue
            known = chosen.get(entry.track_id)
            if known is None or _earlier(entry.due_at, known[1]):
                chosen[entry.track_id] = (entry.cohort_name, entry.due_at)
        result = []
        for track_id, (cohort_name, due_at) in chosen.items():
            track = self._library.tracks[track_id]
            status = history.outcome(track, self._library.scenarios).status
            result.append(
                Assignment(
                    track_id=track_id,
                    track_title=track.title,
                    cohort_name=cohort_name,
                    due_at=due_at,
                    status=status,
                    overdue=due_at is not None and due_at < moment and status not in DONE_STATUSES,
                )
            )
        far = datetime.max.replace(tzinfo=moment.tzinfo)
        return sorted(result, key=lambda a: (a.due_at or far, a.track_title))

    def progress_report(self, profile: Profile, now: datetime | None = None) -> dict[str, Any]:
        """Every measure of ``progress --json`` (keys in docs/scoring.md); no NaN or infinity."""
        from app.services.reports import progress_report

        history = self.history(profile)
        answers = history.counted_answers()
        return progress_report(
            history,
            self._library,
            metrics=trust_metrics(answers),
            outcomes=self._outcomes(history),
            comparison=self._comparison(answers),
            review=self._review(answers, now),
        )

    def export_own(
        self,
        profile: Profile,
        out: BinaryIO,
        export_format: ExportFormat,
        *,
        detail: Detail | None = None,
        track: str | None = None,
        since: datetime | None = None,
        json_lines: bool = False,
        progress: ExportProgress | None = None,
    ) -> int:
        """Export the trainee's own records (CSV, JSON or xAPI); see ``exports.write_export``.

        ``ValueError`` for an unknown track or a format this method does not write.
        """
        from app.services.completion import completion_records, resolve_scope
        from app.services.exports import write_export

        with self._database.read_session() as session:
            scope = resolve_scope(
                session, self._library, track=track, since=since, trainee_ids=[profile.id]
            )

        def records() -> list[CompletionRecord]:
            with self._database.read_session() as session:
                return completion_records(session, self._library, scope, utc_now())

        return write_export(
            self._database,
            self._library,
            out,
            export_format=export_format,
            scope=scope,
            records=records,
            detail=detail,
            home_page=self._settings.effective_xapi_home_page,
            json_lines=json_lines,
            progress=progress,
        )

    def export_bundle(self, profile: Profile, out: BinaryIO, *, as_zip: bool = False) -> int:
        """Write the trainee's own records bundle to ``out``; returns the records written."""
        from app.services.bundles import write_bundle

        return write_bundle(self._database, out, [profile.id], as_zip=as_zip)

    def mark_lesson_read(self, profile: Profile, lesson_id: str) -> None:
        """Record that the trainee read a lesson; reading it again changes nothing."""
        if not lesson_id or len(lesson_id) > CONTENT_ID_LENGTH:
            raise ValueError(f"a lesson id must have 1 to {CONTENT_ID_LENGTH} characters")
        values = {"trainee_id": profile.id, "lesson_id": lesson_id, "read_at": utc_now()}
        conflict_columns = ["trainee_id", "lesson_id"]
        statement: UpdateBase
        # Both dialects have INSERT ... ON CONFLICT DO NOTHING, which also settles a race.
        if self._database.dialect_name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            statement = (
                pg_insert(LessonReadRow)
                .values(values)
                .on_conflict_do_nothing(index_elements=conflict_columns)
            )
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            statement = (
                sqlite_insert(LessonReadRow)
                .values(values)
                .on_conflict_do_nothing(index_elements=conflict_columns)
            )
        with self._database.write_session() as session:
            session.exec(statement)


def _earlier(candidate: datetime | None, known: datetime | None) -> bool:
    if candidate is None:
        return False
    return known is None or candidate < known


def _clean_name(display_name: str) -> str:
    name = display_name.strip()
    if not name:
        raise ValueError("Enter a name for the profile.")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(
            f"A name can have at most {MAX_NAME_LENGTH} characters; this one has {len(name)}."
        )
    if _has_control_characters(name):
        raise ValueError("A name cannot contain line breaks, tabs or other control characters.")
    return name


def _clean_optional(value: str | None, limit: int, what: str) -> str | None:
    if value is None:
        return None
    cleaned = value.strip()
    if not cleaned:
        return None
    if len(cleaned) > limit:
        raise ValueError(
            f"{what} can have at most {limit} characters; this one has {len(cleaned)}."
        )
    if _has_control_characters(cleaned):
        raise ValueError(f"{what} cannot contain line breaks, tabs or other control characters.")
    return cleaned


def _has_control_characters(text: str) -> bool:
    # Cc (controls) and line or paragraph separators; format characters such as the
    # zero-width non-joiner are part of how some languages write names.
    return any(unicodedata.category(char) in {"Cc", "Zl", "Zp"} for char in text)


def _name_taken_message(name: str) -> str:
    return (
        f"The name '{name}' is already in use on this database. Choose another, "
        "for example by adding an initial or your team."
    )


def _find_active_by_name(session: Session, name: str) -> TraineeRow | None:
    wanted = name.casefold()
    rows = session.exec(select(TraineeRow).where(col(TraineeRow.archived_at).is_(None)))
    for row in rows:
        if row.display_name.casefold() == wanted:
            return row
    return None
