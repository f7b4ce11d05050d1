"""The manager service: passphrase, cohorts, completion records, audit events, certificates.

Everything that reads or changes other trainees' records needs a :class:`ManagerSession`,
which only :meth:`ManagerService.unlock` hands out, after the manager passphrase. The
passphrase is kept only as a salted scrypt hash (``app.core.passphrase``), never logged,
and wrong tries are slowed down by a back-off kept in the database, so that restarting the
app does not reset it. A try made during the wait is refused without being checked.

Results are never edited in place: a waiver, a reset or a correction is an event, with
who, when and why, linked into the trainee's hash chain like the answers.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.core.chain import GENESIS, ChainBreak, canonical_json, verify_chain
from app.core.completion import CompletionStatus, track_content_hash
from app.core.model import ContentLibrary
from app.core.passphrase import (
    PassphraseRuleError,
    backoff_seconds,
    check_new_passphrase,
    hash_passphrase,
    verify_passphrase,
)
from app.core.records import Profile
from app.services.completion import (
    CompletionRecord,
    RecordScope,
    completion_records,
    find_cohort,
    resolve_scope,
)
from app.services.history import (
    VOID_ATTEMPT_KEY,
    EventKind,
    ManagerEvent,
    TraineeHistory,
    event_from_row,
    load_history,
)
from app.services.training import Assignment, TrainingService
from app.storage.ledger import append, chain_links, links_of, lock_trainee, verify_links
from app.storage.tables import (
    ACTOR_LENGTH,
    COHORT_NAME_LENGTH,
    AnswerRow,
    CertificateRow,
    CohortMemberRow,
    CohortRow,
    CohortTrackRow,
    EventRow,
    ManagerCredentialRow,
    TraineeRow,
    utc_now,
)

if TYPE_CHECKING:
    from app.services.bundles import ImportReport, ProgressCallback
    from app.services.exports import Detail, ExportFormat
    from app.services.exports import ProgressCallback as ExportProgress
    from app.services.settings import Settings
    from app.storage.database import Database

_log = logging.getLogger(__name__)

__all__ = [
    "Certificate",
    "CertificateCheck",
    "Cohort",
    "CohortTrack",
    "CompletionRecord",
    "ManagerAccessError",
    "ManagerService",
    "ManagerSession",
    "NextGroup",
    "NoPassphrase",
    "NotUnlocked",
    "PassphraseAlreadySet",
    "PassphraseRuleError",
    "RecordBreak",
    "WrongPassphrase",
]

CERTIFICATE_PREFIX = "TT-"
CERTIFICATE_CHARS = 12
MAX_REASON_LENGTH = 2000
DEFAULT_ACTOR = "manager"


class ManagerAccessError(Exception):
    """The manager area stays locked; the message says why and what to do."""


class NoPassphrase(ManagerAccessError):  # noqa: N818 (named for the condition)
    """No manager passphrase has been set yet."""

    def __init__(self) -> None:
        super().__init__("No manager passphrase has been set yet; set one first.")


class PassphraseAlreadySet(ManagerAccessError):  # noqa: N818
    """A passphrase exists; it can only be changed by giving the current one."""

    def __init__(self) -> None:
        super().__init__(
            "A manager passphrase is already set; change it by giving the current one."
        )


class WrongPassphrase(ManagerAccessError):  # noqa: N818
    """The passphrase was wrong, or a try came before the back-off wait was over.

    ``wait_seconds`` is how long to wait before the next try; ``checked`` is ``False`` when
    this try was refused unchecked because it came during the wait.
    """

    def __init__(self, wait_seconds: float, *, checked: bool = True) -> None:
        self.wait_seconds = wait_seconds
        self.checked = checked
        if checked:
            message = "The manager passphrase is not right."
        else:
            message = "Too many wrong tries: the passphrase was not checked."
        if wait_seconds > 0:
            message += f" Wait {wait_seconds:.0f} s before the next try."
        super().__init__(message)


class NotUnlocked(ManagerAccessError):  # noqa: N818
    """A manager method was called without a live session from :meth:`unlock`."""

    def __init__(self) -> None:
        super().__init__("Unlock the manager area with the manager passphrase first.")


@dataclass(frozen=True, eq=False)
class ManagerSession:
    """Proof that the passphrase was given to this service; pass it to manager methods.

    ``actor`` is the label recorded as who made an event (the passphrase is shared, so it
    is the manager's own description of themselves).
    """

    actor: str
    unlocked_at: datetime
    _key: object = field(repr=False)


@dataclass(frozen=True, slots=True)
class CohortTrack:
    """A track assigned to a cohort; ``due_at`` is its own due date, if it has one."""

    track_id: str
    title: str
    due_at: datetime | None


@dataclass(frozen=True, slots=True)
class Cohort:
    """A cohort with its members (by name) and its assigned tracks."""

    id: int
    name: str
    due_at: datetime | None
    created_at: datetime
    archived_at: datetime | None
    members: tuple[Profile, ...]
    tracks: tuple[CohortTrack, ...]


@dataclass(frozen=True, slots=True)
class Certificate:
    """A certificate for a passed track, as printed and as verified."""

    certificate_id: str
    trainee_uid: str
    trainee_name: str
    track_id: str
    track_title: str
    content_hash: str
    score: float
    issued_at: datetime
    chain_head: str
    verification_hash: str


@dataclass(frozen=True, slots=True)
class CertificateCheck:
    """The outcome of checking a certificate against the database.

    ``problems`` say why it is not valid; ``notes`` add what could not be rechecked.
    """

    certificate_id: str
    valid: bool
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    certificate: Certificate | None = None


@dataclass(frozen=True, slots=True)
class RecordBreak(ChainBreak):
    """The first record that does not verify, and whose records it belongs to."""

    trainee_uid: str | None = None
    trainee_name: str | None = None

    def __str__(self) -> str:
        owner = (
            f" of trainee '{self.trainee_name}' ({self.trainee_uid})"
            if self.trainee_uid is not None
            else ""
        )
        return f"{self.record_id}{owner}: {self.reason}"


@dataclass(frozen=True, slots=True)
class NextGroup:
    """What "start the next group" archived."""

    cohort: Cohort
    archived_profiles: tuple[Profile, ...]


def certificate_hash(
    certificate_id: str,
    trainee_uid: str,
    track_id: str,
    content_hash: str,
    score: float,
    issued_at: datetime,
    chain_head: str,
) -> str:
    """The verification hash printed on a certificate."""
    payload = {
        "certificate_id": certificate_id,
        "trainee": trainee_uid,
        "track_id": track_id,
        "content_hash": content_hash,
        "score": score,
        "issued_at": issued_at,
        "chain_head": chain_head,
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def new_certificate_id() -> str:
    """``TT-`` and 12 random base32 characters (60 bits)."""
    return CERTIFICATE_PREFIX + base64.b32encode(secrets.token_bytes(10)).decode()[:12]


class ManagerService:
    """The manager's side of Think Twice; see the module docstring for the rules."""

    def __init__(
        self,
        database: Database,
        library: ContentLibrary,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._database = database
        self._library = library
        self._settings = settings
        self._clock = clock
        self._live_keys: set[object] = set()

    # Passphrase and sessions

    def has_passphrase(self) -> bool:
        """Whether a manager passphrase has been set on this database."""
        with self._database.read_session() as session:
            return session.get(ManagerCredentialRow, 1) is not None

    def set_passphrase(self, new: str) -> None:
        """Set the first passphrase; raises ``PassphraseRuleError`` or ``PassphraseAlreadySet``."""
        check_new_passphrase(new)
        stored = hash_passphrase(new)
        try:
            with self._database.write_session() as session:
                if session.get(ManagerCredentialRow, 1) is not None:
                    raise PassphraseAlreadySet
                session.add(ManagerCredentialRow(passphrase_hash=stored, updated_at=self._clock()))
        except IntegrityError:
            # Another machine set it between our look and our insert.
            raise PassphraseAlreadySet from None
        _log.info("manager passphrase set")

    def change_passphrase(self, old: str, new: str) -> None:
        """Replace the passphrase; the current one is checked with the usual back-off."""
        check_new_passphrase(new)
        self._check(old)
        stored = hash_passphrase(new)
        with self._database.write_session() as session:
            row = session.get(ManagerCredentialRow, 1)
            if row is None:
                raise NoPassphrase
            row.passphrase_hash = stored
            row.failed_attempts = 0
            row.last_failed_at = None
            row.updated_at = self._clock()
            session.add(row)
        _log.info("manager passphrase changed")

    def unlock(self, passphrase: str, actor: str = DEFAULT_ACTOR) -> ManagerSession:
        """A manager session, or ``NoPassphrase`` / ``WrongPassphrase``.

        ``actor`` is recorded as who made the events of this session.
        """
        label = _clean_text(actor, ACTOR_LENGTH, "The manager label")
        self._check(passphrase)
        key = object()
        self._live_keys.add(key)
        _log.info("manager area unlocked by %s", label)
        return ManagerSession(actor=label, unlocked_at=self._clock(), _key=key)

    def lock(self, session: ManagerSession) -> None:
        """End ``session``: manager methods refuse it from now on."""
        self._live_keys.discard(session._key)

    def wait_seconds(self) -> float:
        """How long before the next try will be checked (0 when it may be tried now)."""
        with self._database.read_session() as session:
            row = session.get(ManagerCredentialRow, 1)
            return 0.0 if row is None else self._remaining_wait(row)

    def _remaining_wait(self, row: ManagerCredentialRow) -> float:
        if row.last_failed_at is None:
            return 0.0
        wait = backoff_seconds(row.failed_attempts)
        elapsed = (self._clock() - row.last_failed_at).total_seconds()
        # A clock set back must not make the wait longer than the rule says.
        return max(0.0, min(wait, wait - elapsed))

    def _check(self, passphrase: str) -> None:
        with self._database.read_session() as session:
            row = session.get(ManagerCredentialRow, 1)
            if row is None:
                raise NoPassphrase
            stored = row.passphrase_hash
            wait = self._remaining_wait(row)
        if wait > 0:
            raise WrongPassphrase(wait, checked=False)
        # The slow hash runs outside any transaction, so it holds no lock.
        right = verify_passphrase(passphrase, stored)
        with self._database.write_session() as session:
            if right:
                session.exec(
                    update(ManagerCredentialRow)
                    .where(col(ManagerCredentialRow.id) == 1)
                    .values(failed_attempts=0, last_failed_at=None)
                )
                return
            session.exec(
                update(ManagerCredentialRow)
                .where(col(ManagerCredentialRow.id) == 1)
                .values(
                    failed_attempts=ManagerCredentialRow.failed_attempts + 1,
                    last_failed_at=self._clock(),
                )
            )
            failures = session.exec(
                select(ManagerCredentialRow.failed_attempts).where(ManagerCredentialRow.id == 1)
            ).one()
        _log.warning("wrong manager passphrase (%d wrong tries in a row)", failures)
        raise WrongPassphrase(backoff_seconds(failures))

    def _require(self, session: ManagerSession) -> None:
        if not isinstance(session, ManagerSession) or session._key not in self._live_keys:
            raise NotUnlocked

    # Profiles

    def profiles(self, session: ManagerSession, *, include_archived: bool = False) -> list[Profile]:
        """Every trainee (archived ones too when asked), by name."""
        self._require(session)
        with self._database.read_session() as db:
            query = select(TraineeRow)
            if not include_archived:
                query = query.where(col(TraineeRow.archived_at).is_(None))
            profiles = [row.to_profile() for row in db.exec(query)]
        return sorted(profiles, key=lambda p: (p.display_name.casefold(), p.id))

    def find_profile(self, session: ManagerSession, name_or_uid: str) -> Profile:
        """The active trainee with this name (ignoring case), else the trainee with this uid."""
        self._require(session)
        wanted = name_or_uid.strip()
        with self._database.read_session() as db:
            rows = db.exec(select(TraineeRow)).all()
        active = [r for r in rows if r.archived_at is None]
        for row in active:
            if row.display_name.casefold() == wanted.casefold():
                return row.to_profile()
        for row in rows:
            if row.uid == wanted:
                return row.to_profile()
        raise ValueError(f"There is no trainee named '{wanted}'.")

    # Cohorts

    def cohorts(self, session: ManagerSession, *, include_archived: bool = False) -> list[Cohort]:
        """The cohorts, by name, with their members and tracks."""
        self._require(session)
        with self._database.read_session() as db:
            query = select(CohortRow).order_by(col(CohortRow.name))
            if not include_archived:
                query = query.where(col(CohortRow.archived_at).is_(None))
            return [self._cohort(db, row) for row in db.exec(query).all()]

    def cohort(self, session: ManagerSession, name: str) -> Cohort:
        """One cohort by name (archived ones too)."""
        self._require(session)
        with self._database.read_session() as db:
            return self._cohort(db, find_cohort(db, name))

    def create_cohort(
        self, session: ManagerSession, name: str, due_at: datetime | None = None
    ) -> Cohort:
        """A new cohort; ``ValueError`` when the name is empty, too long or taken."""
        self._require(session)
        cleaned = _clean_text(name, COHORT_NAME_LENGTH, "A cohort name")
        try:
            with self._database.write_session() as db:
                self._check_cohort_name_free(db, cleaned)
                row = CohortRow(name=cleaned, due_at=due_at, created_at=self._clock())
                db.add(row)
                db.flush()
                cohort = self._cohort(db, row)
        except IntegrityError:
            raise ValueError(_cohort_name_taken(cleaned)) from None
        _log.info("cohort %s created", cohort.id)
        return cohort

    def rename_cohort(self, session: ManagerSession, name: str, new_name: str) -> Cohort:
        """Give a cohort a new name."""
        self._require(session)
        cleaned = _clean_text(new_name, COHORT_NAME_LENGTH, "A cohort name")
        try:
            with self._database.write_session() as db:
                row = find_cohort(db, name)
                if row.name.casefold() != cleaned.casefold():
                    self._check_cohort_name_free(db, cleaned)
                row.name = cleaned
                db.add(row)
                db.flush()
                return self._cohort(db, row)
        except IntegrityError:
            raise ValueError(_cohort_name_taken(cleaned)) from None

    def set_cohort_due(self, session: ManagerSession, name: str, due_at: datetime | None) -> Cohort:
        """Set or clear the cohort's due date (a track's own due date still wins)."""
        self._require(session)
        with self._database.write_session() as db:
            row = find_cohort(db, name)
            row.due_at = due_at
            db.add(row)
            db.flush()
            return self._cohort(db, row)

    def archive_cohort(self, session: ManagerSession, name: str) -> Cohort:
        """Archive a cohort: kept, and exportable, but no longer shown to trainees."""
        self._require(session)
        with self._database.write_session() as db:
            row = find_cohort(db, name)
            if row.archived_at is None:
                row.archived_at = self._clock()
                db.add(row)
                db.flush()
            return self._cohort(db, row)

    def add_members(
        self, session: ManagerSession, cohort_name: str, profiles: Iterable[Profile]
    ) -> Cohort:
        """Add trainees to a cohort; those already in it are left as they are."""
        self._require(session)
        with self._database.write_session() as db:
            row = find_cohort(db, cohort_name)
            present = set(
                db.exec(
                    select(CohortMemberRow.trainee_id).where(CohortMemberRow.cohort_id == row.id)
                ).all()
            )
            for profile in profiles:
                if profile.id not in present:
                    assert row.id is not None
                    db.add(CohortMemberRow(cohort_id=row.id, trainee_id=profile.id))
                    present.add(profile.id)
            db.flush()
            return self._cohort(db, row)

    def remove_members(
        self, session: ManagerSession, cohort_name: str, profiles: Iterable[Profile]
    ) -> Cohort:
        """Take trainees out of a cohort (their records stay)."""
        self._require(session)
        ids = [p.id for p in profiles]
        with self._database.write_session() as db:
            row = find_cohort(db, cohort_name)
            for member in db.exec(
                select(CohortMemberRow).where(
                    CohortMemberRow.cohort_id == row.id,
                    col(CohortMemberRow.trainee_id).in_(ids),
                )
            ).all():
                db.delete(member)
            db.flush()
            return self._cohort(db, row)

    def assign_track(
        self,
        session: ManagerSession,
        cohort_name: str,
        track_id: str,
        due_at: datetime | None = None,
    ) -> Cohort:
        """Assign a track to a cohort, or change its due date if already assigned."""
        self._require(session)
        if track_id not in self._library.tracks:
            raise ValueError(f"There is no track '{track_id}' in the loaded content.")
        with self._database.write_session() as db:
            row = find_cohort(db, cohort_name)
            assert row.id is not None
            found = db.exec(
                select(CohortTrackRow).where(
                    CohortTrackRow.cohort_id == row.id, CohortTrackRow.track_id == track_id
                )
            ).first()
            if found is None:
                found = CohortTrackRow(cohort_id=row.id, track_id=track_id)
            found.due_at = due_at
            db.add(found)
            db.flush()
            return self._cohort(db, row)

    def unassign_track(self, session: ManagerSession, cohort_name: str, track_id: str) -> Cohort:
        """Take a track off a cohort's assignments."""
        self._require(session)
        with self._database.write_session() as db:
            row = find_cohort(db, cohort_name)
            for found in db.exec(
                select(CohortTrackRow).where(
                    CohortTrackRow.cohort_id == row.id, CohortTrackRow.track_id == track_id
                )
            ).all():
                db.delete(found)
            db.flush()
            return self._cohort(db, row)

    def start_next_group(
        self, session: ManagerSession, cohort_name: str, *, all_profiles: bool = False
    ) -> NextGroup:
        """Archive a cohort and its members' profiles (or every active profile) at once.

        Nothing is deleted: the cohort and the profiles stay in the records and exports,
        they are only no longer offered in the app. The profile remembered for the next
        start is forgotten when it was archived.
        """
        self._require(session)
        now = self._clock()
        with self._database.write_session() as db:
            row = find_cohort(db, cohort_name)
            if row.archived_at is None:
                row.archived_at = now
                db.add(row)
            query = select(TraineeRow).where(col(TraineeRow.archived_at).is_(None))
            if not all_profiles:
                members = select(CohortMemberRow.trainee_id).where(
                    CohortMemberRow.cohort_id == row.id
                )
                query = query.where(col(TraineeRow.id).in_(members))
            archived = []
            for trainee in db.exec(query).all():
                trainee.archived_at = now
                db.add(trainee)
                archived.append(trainee.to_profile())
            db.flush()
            cohort = self._cohort(db, row)
        if self._settings.last_profile_uid in {p.uid for p in archived}:
            self._settings.last_profile_uid = None
            try:
                self._settings.save()
            except OSError as error:
                _log.warning("could not save settings to %s: %s", self._settings.path, error)
        _log.info("cohort %s archived with %d profile(s)", cohort.id, len(archived))
        return NextGroup(cohort=cohort, archived_profiles=tuple(archived))

    def assignments_for(self, profile: Profile, now: datetime | None = None) -> list[Assignment]:
        """The trainee's own assignments (no session: see ``TrainingService.assignments``)."""
        training = TrainingService(self._database, self._library, self._settings)
        return training.assignments(profile, now or self._clock())

    def _check_cohort_name_free(self, db: Session, name: str) -> None:
        for row in db.exec(select(CohortRow)):
            if row.name.casefold() == name.casefold():
                raise ValueError(_cohort_name_taken(name))

    def _cohort(self, db: Session, row: CohortRow) -> Cohort:
        members = db.exec(
            select(TraineeRow)
            .join(CohortMemberRow, col(CohortMemberRow.trainee_id) == col(TraineeRow.id))
            .where(CohortMemberRow.cohort_id == row.id)
        ).all()
        tracks = db.exec(
            select(CohortTrackRow)
            .where(CohortTrackRow.cohort_id == row.id)
            .order_by(col(CohortTrackRow.track_id))
        ).all()
        assert row.id is not None
        return Cohort(
            id=row.id,
            name=row.name,
            due_at=row.due_at,
            created_at=row.created_at,
            archived_at=row.archived_at,
            members=tuple(
                sorted(
                    (m.to_profile() for m in members),
                    key=lambda p: (p.display_name.casefold(), p.id),
                )
            ),
            tracks=tuple(
                CohortTrack(
                    track_id=t.track_id,
                    title=(
                        self._library.tracks[t.track_id].title
                        if t.track_id in self._library.tracks
                        else t.track_id
                    ),
                    due_at=t.due_at,
                )
                for t in tracks
            ),
        )

    # Completion records and exports

    def scope(
        self,
        session: ManagerSession,
        *,
        cohort: str | None = None,
        track: str | None = None,
        since: datetime | None = None,
    ) -> RecordScope:
        """The filters resolved for the exports; ``ValueError`` names an unknown one."""
        self._require(session)
        with self._database.read_session() as db:
            return resolve_scope(db, self._library, cohort=cohort, track=track, since=since)

    def completion_records(
        self,
        session: ManagerSession,
        cohort: str | None = None,
        track: str | None = None,
        since: datetime | None = None,
    ) -> list[CompletionRecord]:
        """One record per trainee and track (see ``app.services.completion``)."""
        scope = self.scope(session, cohort=cohort, track=track, since=since)
        with self._database.read_session() as db:
            return completion_records(db, self._library, scope, self._clock())

    def records_in(self, session: ManagerSession, scope: RecordScope) -> list[CompletionRecord]:
        """The completion records of an already resolved scope."""
        self._require(session)
        with self._database.read_session() as db:
            return completion_records(db, self._library, scope, self._clock())

    def export(
        self,
        session: ManagerSession,
        out: BinaryIO,
        export_format: ExportFormat,
        *,
        detail: Detail | None = None,
        cohort: str | None = None,
        track: str | None = None,
        since: datetime | None = None,
        json_lines: bool = False,
        progress: ExportProgress | None = None,
    ) -> int:
        """Export every trainee's records (or a cohort's) as CSV, JSON or xAPI.

        Returns the rows, records or statements written; ``ValueError`` names an unknown
        cohort or track, or a format written elsewhere (bundle: :meth:`export_bundle`).
        """
        from app.services.exports import write_export

        scope = self.scope(session, cohort=cohort, track=track, since=since)
        return write_export(
            self._database,
            self._library,
            out,
            export_format=export_format,
            scope=scope,
            records=lambda: self.records_in(session, scope),
            detail=detail,
            home_page=self._settings.effective_xapi_home_page,
            json_lines=json_lines,
            progress=progress,
        )

    def export_bundle(
        self,
        session: ManagerSession,
        out: BinaryIO,
        *,
        cohort: str | None = None,
        as_zip: bool = False,
    ) -> int:
        """Write a records bundle of every trainee (or a cohort's); returns records written."""
        from app.services.bundles import write_bundle

        scope = self.scope(session, cohort=cohort)
        return write_bundle(self._database, out, scope.trainee_ids, as_zip=as_zip)

    def import_bundle(
        self, session: ManagerSession, data: bytes, progress: ProgressCallback | None = None
    ) -> ImportReport:
        """Import a records bundle (see ``app.services.bundles.import_bundle``)."""
        from app.services.bundles import import_bundle

        self._require(session)
        return import_bundle(self._database, data, progress=progress)

    # Audit events

    def waive(
        self, session: ManagerSession, profile: Profile, track_id: str, reason: str
    ) -> ManagerEvent:
        """Mark a track waived for a trainee (until a later reset)."""
        self._require_track(track_id)
        return self._add_event(session, profile, EventKind.WAIVE, track_id, reason, {})

    def reset(
        self, session: ManagerSession, profile: Profile, track_id: str, reason: str
    ) -> ManagerEvent:
        """Count a trainee's track afresh from now on (earlier answers stay stored)."""
        self._require_track(track_id)
        return self._add_event(session, profile, EventKind.RESET, track_id, reason, {})

    def correct(
        self, session: ManagerSession, profile: Profile, attempt_id: str, reason: str
    ) -> ManagerEvent:
        """Void one answer of a trainee: it stays stored but no longer counts anywhere."""
        self._require(session)
        with self._database.read_session() as db:
            answer = db.exec(
                select(AnswerRow).where(
                    AnswerRow.attempt_id == attempt_id, AnswerRow.trainee_id == profile.id
                )
            ).first()
            if answer is None:
                raise ValueError(
                    f"Trainee '{profile.display_name}' has no answer with id {attempt_id}."
                )
            history = load_history(db, profile.id)
        if attempt_id in history.voided_attempts:
            raise ValueError(f"The answer {attempt_id} is already voided.")
        return self._add_event(
            session, profile, EventKind.CORRECT, None, reason, {VOID_ATTEMPT_KEY: attempt_id}
        )

    def events(self, session: ManagerSession, profile: Profile) -> list[ManagerEvent]:
        """The trainee's manager events, oldest first."""
        self._require(session)
        with self._database.read_session() as db:
            return list(load_history(db, profile.id).events)

    def _require_track(self, track_id: str) -> None:
        if track_id not in self._library.tracks:
            raise ValueError(f"There is no track '{track_id}' in the loaded content.")

    def _add_event(
        self,
        session: ManagerSession,
        profile: Profile,
        kind: EventKind,
        track_id: str | None,
        reason: str,
        details: dict[str, Any],
    ) -> ManagerEvent:
        self._require(session)
        why = _clean_reason(reason)
        row = EventRow(
            event_id=uuid.uuid4().hex,
            trainee_id=profile.id,
            kind=kind.value,
            track_id=track_id,
            reason=why,
            actor=session.actor,
            created_at=self._clock(),
            details=details,
            # Placeholders: append() sets the chain place inside the write transaction.
            chain_seq=0,
            previous_hash="",
            record_hash="",
        )
        with self._database.write_session() as db:
            try:
                trainee = lock_trainee(db, profile.id)
            except LookupError:
                raise ValueError(f"There is no trainee '{profile.display_name}'.") from None
            append(db, trainee, row)
            event = event_from_row(row, trainee.uid)
        _log.info(
            "manager event %s (%s) recorded for trainee %s", event.event_id, kind, profile.uid
        )
        return event

    # Certificates

    def issue_certificates(
        self,
        session: ManagerSession,
        cohort: str | None = None,
        track: str | None = None,
    ) -> list[Certificate]:
        """A certificate for every passed trainee and track in the filter.

        Idempotent: a trainee, track and track content gets one certificate, however
        often this runs.
        """
        records = self.completion_records(session, cohort=cohort, track=track)
        passed = [r for r in records if r.status is CompletionStatus.PASSED]
        with self._database.read_session() as db:
            ids = {
                row.uid: row.id
                for row in db.exec(
                    select(TraineeRow).where(
                        col(TraineeRow.uid).in_([r.trainee_uid for r in passed])
                    )
                )
            }
        certificates = []
        for record in passed:
            trainee_id = ids[record.trainee_uid]
            assert trainee_id is not None
            certificates.append(self._issue(trainee_id, record.track_id))
        return certificates

    def issue_certificate(
        self, session: ManagerSession, profile: Profile, track_id: str
    ) -> Certificate:
        """The certificate for one trainee's passed track; ``ValueError`` if not passed."""
        self._require(session)
        self._require_track(track_id)
        return self._issue(profile.id, track_id)

    def certificates(self, session: ManagerSession) -> list[Certificate]:
        """Every certificate issued, newest first."""
        self._require(session)
        with self._database.read_session() as db:
            rows = db.exec(
                select(CertificateRow, TraineeRow)
                .join(TraineeRow, col(TraineeRow.id) == col(CertificateRow.trainee_id))
                .order_by(col(CertificateRow.issued_at).desc())
            ).all()
            return [self._certificate(c, t) for c, t in rows]

    def _issue(self, trainee_id: int, track_id: str) -> Certificate:
        track = self._library.tracks[track_id]
        with self._database.write_session() as db:
            # Locked so that the chain head and the outcome it is computed from agree.
            trainee = lock_trainee(db, trainee_id)
            history = load_history(db, trainee_id)
            outcome = history.outcome(track, self._library.scenarios)
            if outcome.status is not CompletionStatus.PASSED or outcome.score is None:
                raise ValueError(
                    f"'{trainee.display_name}' has not passed the track '{track.title}' "
                    f"(status: {outcome.status.value})."
                )
            existing = db.exec(
                select(CertificateRow).where(
                    CertificateRow.trainee_id == trainee_id,
                    CertificateRow.track_id == track_id,
                    CertificateRow.content_hash == outcome.content_hash,
                )
            ).first()
            if existing is not None:
                return self._certificate(existing, trainee)
            used = set(db.exec(select(CertificateRow.certificate_id)).all())
            certificate_id = new_certificate_id()
            while certificate_id in used:
                certificate_id = new_certificate_id()
            score = round(outcome.score, 4)
            issued_at = self._clock()
            row = CertificateRow(
                certificate_id=certificate_id,
                trainee_id=trainee_id,
                track_id=track_id,
                content_hash=outcome.content_hash,
                score=score,
                issued_at=issued_at,
                chain_head=trainee.chain_head,
                verification_hash=certificate_hash(
                    certificate_id,
                    trainee.uid,
                    track_id,
                    outcome.content_hash,
                    score,
                    issued_at,
                    trainee.chain_head,
                ),
            )
            db.add(row)
            db.flush()
            certificate = self._certificate(row, trainee)
        _log.info("certificate %s issued", certificate.certificate_id)
        return certificate

    def _certificate(self, row: CertificateRow, trainee: TraineeRow) -> Certificate:
        track = self._library.tracks.get(row.track_id)
        return Certificate(
            certificate_id=row.certificate_id,
            trainee_uid=trainee.uid,
            trainee_name=trainee.display_name,
            track_id=row.track_id,
            track_title=track.title if track is not None else row.track_id,
            content_hash=row.content_hash,
            score=row.score,
            issued_at=row.issued_at,
            chain_head=row.chain_head,
            verification_hash=row.verification_hash,
        )

    def verify_certificate(
        self, certificate_id: str, verification_hash: str | None = None
    ) -> CertificateCheck:
        """Check a certificate against the database (no session: it shows only what the
        certificate itself states).

        Valid when it exists, its fields still match its verification hash (and the hash
        given, if any), the trainee's records up to the chain head it names are intact,
        and, when the track's content is unchanged, those records still pass it with the
        score printed.
        """
        wanted = certificate_id.strip().upper()
        with self._database.read_session() as db:
            found = db.exec(
                select(CertificateRow, TraineeRow)
                .join(TraineeRow, col(TraineeRow.id) == col(CertificateRow.trainee_id))
                .where(CertificateRow.certificate_id == wanted)
            ).first()
            if found is None:
                return CertificateCheck(
                    wanted, False, (f"There is no certificate {wanted} in this database.",)
                )
            row, trainee = found
            certificate = self._certificate(row, trainee)
            problems, notes = self._certificate_problems(db, row, trainee, verification_hash)
        return CertificateCheck(wanted, not problems, tuple(problems), tuple(notes), certificate)

    def _certificate_problems(
        self,
        db: Session,
        row: CertificateRow,
        trainee: TraineeRow,
        given_hash: str | None,
    ) -> tuple[list[str], list[str]]:
        problems: list[str] = []
        notes: list[str] = []
        expected = certificate_hash(
            row.certificate_id,
            trainee.uid,
            row.track_id,
            row.content_hash,
            row.score,
            row.issued_at,
            row.chain_head,
        )
        if expected != row.verification_hash:
            problems.append(
                "Its stored fields do not match its verification hash: the certificate "
                "was changed outside Think Twice."
            )
        if given_hash is not None and given_hash.strip().lower() != row.verification_hash:
            problems.append("The verification hash given is not the one issued with it.")

        answers = db.exec(select(AnswerRow).where(AnswerRow.trainee_id == trainee.id)).all()
        events = db.exec(select(EventRow).where(EventRow.trainee_id == trainee.id)).all()
        links = links_of(trainee.uid, answers, events)
        if row.chain_head == GENESIS:
            head_index = -1
        else:
            positions = [i for i, link in enumerate(links) if link.record_hash == row.chain_head]
            if not positions:
                problems.append(
                    "The records it was issued on are no longer in the database (its "
                    "chain head is missing)."
                )
                return problems, notes
            head_index = positions[0]
        broken = verify_chain(links[: head_index + 1])
        if broken is not None:
            problems.append(
                f"The records it was issued on do not verify: {broken.record_id}: {broken.reason}"
            )
            return problems, notes

        track = self._library.tracks.get(row.track_id)
        if track is None:
            notes.append("The track is not in the loaded content; the score was not recomputed.")
            return problems, notes
        if track_content_hash(track, self._library.scenarios) != row.content_hash:
            notes.append(
                "The track's content has changed since the certificate was issued; the "
                "score was not recomputed."
            )
            return problems, notes
        included = {link.record_id for link in links[: head_index + 1]}
        history = load_history(db, trainee.id if trainee.id is not None else -1)
        at_issue = TraineeHistory(
            profile=history.profile,
            answers=[a for a in history.answers if f"answer {a.attempt_id}" in included],
            lessons_read={
                lesson: when
                for lesson, when in history.lessons_read.items()
                if when <= row.issued_at
            },
            events=[e for e in history.events if f"event {e.event_id}" in included],
        )
        outcome = at_issue.outcome(track, self._library.scenarios)
        if outcome.status is not CompletionStatus.PASSED:
            problems.append(
                f"The records it was issued on do not pass the track (status: "
                f"{outcome.status.value})."
            )
        elif outcome.score is None or round(outcome.score, 4) != row.score:
            problems.append(
                f"The records it was issued on give a score of {outcome.score}, not {row.score}."
            )
        return problems, notes

    # Integrity

    def verify_records(self) -> RecordBreak | None:
        """The first record that does not verify, or ``None`` when all is intact.

        Walks every trainee's chain of answers and events (in trainee order), then checks
        every certificate's verification hash. Needs no session: it tells where the
        records were changed, not what they say.
        """
        with self._database.read_session() as db:
            trainees = db.exec(select(TraineeRow).order_by(col(TraineeRow.id))).all()
            for trainee in trainees:
                links = chain_links(db, trainee)
                broken = verify_links(links, trainee.chain_head, trainee.chain_length, trainee.uid)
                if broken is not None:
                    return RecordBreak(
                        broken.record_id, broken.reason, trainee.uid, trainee.display_name
                    )
                db.expunge_all()  # keep memory flat over many trainees
            rows = db.exec(
                select(CertificateRow, TraineeRow)
                .join(TraineeRow, col(TraineeRow.id) == col(CertificateRow.trainee_id))
                .order_by(col(CertificateRow.id))
            ).all()
            for row, trainee in rows:
                expected = certificate_hash(
                    row.certificate_id,
                    trainee.uid,
                    row.track_id,
                    row.content_hash,
                    row.score,
                    row.issued_at,
                    row.chain_head,
                )
                if expected != row.verification_hash:
                    return RecordBreak(
                        f"certificate {row.certificate_id}",
                        "its fields do not match its verification hash",
                        trainee.uid,
                        trainee.display_name,
                    )
        return None


def _clean_text(value: str, limit: int, what: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise ValueError(f"{what} cannot be empty.")
    if len(cleaned) > limit:
        raise ValueError(f"{what} can have at most {limit} characters.")
    if any(unicodedata.category(char) in {"Cc", "Zl", "Zp"} for char in cleaned):
        raise ValueError(f"{what} cannot contain line breaks or other control characters.")
    return cleaned


def _clean_reason(reason: str) -> str:
    cleaned = reason.strip()
    if not cleaned:
        raise ValueError("Give a reason: it is kept with the event for the audit trail.")
    if len(cleaned) > MAX_REASON_LENGTH:
        raise ValueError(f"A reason can have at most {MAX_REASON_LENGTH} characters.")
    return cleaned


def _cohort_name_taken(name: str) -> str:
    return f"A cohort named '{name}' already exists; choose another name."
