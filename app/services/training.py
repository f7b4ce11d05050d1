"""The training service: profiles, answers and progress, for the interface and the CLI.

Every method is one short database session, and every answer is written in its own
committed transaction before the method returns. Methods take and return the core's plain
values (``app.core.records``), never database rows.
"""

from __future__ import annotations

import logging
import unicodedata
import uuid
from collections import defaultdict
from typing import TYPE_CHECKING

from sqlalchemy.sql.dml import UpdateBase
from sqlmodel import Session, col, select

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
    from app.services.settings import Settings
    from app.storage.database import Database

_log = logging.getLogger(__name__)

MAX_NAME_LENGTH = NAME_LENGTH
# Any constant works; it must only differ from other advisory lock keys of Think Twice.
_PROFILE_NAMES_LOCK_KEY = 0x7417_0002


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
    ) -> tuple[AnswerRecord, StepOutcome]:
        """Judge ``answer`` and keep it; returns only once it is committed.

        Raises ``ValueError`` when the step is not part of the scenario or the answer does
        not fit the step, and a :class:`~app.storage.errors.StorageError` when it could not
        be saved (then nothing of it was saved).
        """
        try:
            if scenario.step(step.id) != step:
                raise KeyError(step.id)
        except KeyError:
            raise ValueError(f"step {step.id!r} is not part of scenario {scenario.id!r}") from None
        if not play_id or len(play_id) > UID_LENGTH:
            raise ValueError(f"a play id must have 1 to {UID_LENGTH} characters")
        outcome = judge(step, answer)
        revision_text = (
            step.revisions[answer.revision_index].text
            if answer.revision_index is not None
            else None
        )
        row = AnswerRow(
            attempt_id=uuid.uuid4().hex,
            play_id=play_id,
            trainee_id=profile.id,
            scenario_id=scenario.id,
            scenario_version=scenario.version,
            pack_id=scenario.pack_id,
            step_id=step.id,
            decision=answer.decision.value,
            expected=step.answer.value,
            revision_index=answer.revision_index,
            revision_text=revision_text,
            correct=outcome.correct,
            verdict=outcome.verdict.value,
            flags_chosen=None if answer.flags is None else sorted(answer.flags),
            flags_missed=list(outcome.flags_missed),
            flags_true=list(step.flags),
            confidence=answer.confidence,
            seconds=answer.seconds,
            answered_at=utc_now(),
        )
        with self._database.write_session() as session:
            session.add(row)
        return row.to_record(), outcome

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
