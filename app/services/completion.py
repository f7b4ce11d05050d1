"""Completion records: one per trainee and track, as HR, an LMS or an auditor reads them.

A record joins the trainee (name, email or id, team, cohorts), the track (id, title, the
hash of its content as answered), the standing computed by ``app.core.completion`` with
the manager events applied (kept in the cache of ``app.services.standings``), the due
date from the cohorts, and the certificate if one was issued. The filters (cohort, track,
since) are resolved here into a :class:`RecordScope` that the exports share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.core.completion import CompletionStatus, TrackOutcome
from app.core.model import ContentLibrary, Track
from app.services.history import AssignedTrack, assigned_tracks, member_cohorts
from app.services.standings import TraineeState, current_standings, trainee_states
from app.storage.tables import CertificateRow, CohortMemberRow, CohortRow, CohortTrackRow

DONE_STATUSES = frozenset(
    {CompletionStatus.COMPLETED, CompletionStatus.PASSED, CompletionStatus.WAIVED}
)


@dataclass(frozen=True, slots=True)
class CompletionRecord:
    """One trainee's standing on one track, with everything an auditor asks for."""

    trainee_uid: str
    trainee_name: str
    trainee_email_or_id: str | None
    trainee_team: str | None
    trainee_archived: bool
    cohort: str | None
    track_id: str
    track_title: str
    content_hash: str
    status: CompletionStatus
    items_done: int
    items_total: int
    score: float | None
    over_trust_rate: float | None
    under_trust_rate: float | None
    first_started: datetime | None
    completed_at: datetime | None
    seconds_spent: float
    due_at: datetime | None
    overdue: bool
    certificate_id: str | None
    last_activity: datetime | None


@dataclass(frozen=True, slots=True)
class RecordScope:
    """Which records an export or report covers.

    ``trainee_ids`` ``None`` means every trainee; ``track_ids`` are the tracks of the
    completion records; ``scenario_ids`` (``None``: all) limit the answers; ``since``
    drops answers before it and completion records with no activity since.
    """

    trainee_ids: tuple[int, ...] | None
    track_ids: tuple[str, ...]
    scenario_ids: tuple[str, ...] | None
    since: datetime | None
    cohort_name: str | None = None
    track_filter: str | None = None

    def describe(self) -> dict[str, str | None]:
        """The filters, for the header of an export."""
        from app.services.reports import iso_time

        return {
            "cohort": self.cohort_name,
            "track": self.track_filter,
            "since": iso_time(self.since),
        }


def find_cohort(session: Session, name: str) -> CohortRow:
    """The cohort with this name (exact, else ignoring case); ``ValueError`` when none."""
    cleaned = name.strip()
    exact = session.exec(select(CohortRow).where(CohortRow.name == cleaned)).first()
    if exact is not None:
        return exact
    wanted = cleaned.casefold()
    for row in session.exec(select(CohortRow)):
        if row.name.casefold() == wanted:
            return row
    raise ValueError(f"There is no cohort named '{cleaned}'.")


def resolve_scope(
    session: Session,
    library: ContentLibrary,
    *,
    cohort: str | None = None,
    track: str | None = None,
    since: datetime | None = None,
    trainee_ids: Sequence[int] | None = None,
) -> RecordScope:
    """Turn the filters into ids; ``ValueError`` names an unknown cohort or track.

    With a cohort, the trainees are its members and the tracks those it was assigned
    (or ``track``); without, every trainee (or ``trainee_ids``) and every track of the
    library (or ``track``).
    """
    if track is not None and track not in library.tracks:
        raise ValueError(f"There is no track '{track}' in the loaded content.")
    ids: tuple[int, ...] | None = tuple(trainee_ids) if trainee_ids is not None else None
    if cohort is not None:
        row = find_cohort(session, cohort)
        members = session.exec(
            select(CohortMemberRow.trainee_id).where(CohortMemberRow.cohort_id == row.id)
        ).all()
        member_ids = tuple(sorted(members))
        ids = member_ids if ids is None else tuple(i for i in ids if i in set(member_ids))
        if track is not None:
            track_ids: tuple[str, ...] = (track,)
        else:
            assigned = session.exec(
                select(CohortTrackRow.track_id)
                .where(CohortTrackRow.cohort_id == row.id)
                .order_by(col(CohortTrackRow.track_id))
            ).all()
            track_ids = tuple(t for t in assigned if t in library.tracks)
        cohort_name: str | None = row.name
    else:
        track_ids = (track,) if track is not None else tuple(library.tracks)
        cohort_name = None
    scenario_ids = tuple(library.tracks[track].scenario_ids) if track is not None else None
    return RecordScope(
        trainee_ids=ids,
        track_ids=track_ids,
        scenario_ids=scenario_ids,
        since=since,
        cohort_name=cohort_name,
        track_filter=track,
    )


def completion_records(
    session: Session, library: ContentLibrary, scope: RecordScope, now: datetime
) -> list[CompletionRecord]:
    """One record per trainee and track in ``scope``, by trainee name then track order.

    The standings come from the cache of ``app.services.standings``: rows that are
    missing or stale are recomputed from the histories and written back when the
    database allows it, so the records are the same as replaying every history.
    """
    trainees = trainee_states(session, scope.trainee_ids)
    ids = list(trainees)
    every_trainee = scope.trainee_ids is None
    standings = current_standings(
        session, library, trainees, scope.track_ids, every_trainee=every_trainee
    )
    wanted = None if every_trainee else ids
    assigned = assigned_tracks(session, wanted)
    cohorts_of = member_cohorts(session, wanted)
    certificates = _certificates(session, wanted)

    ordered = sorted(
        trainees.values(),
        key=lambda t: (t.display_name.casefold(), t.display_name, t.trainee_id),
    )
    tracks = [library.tracks[track_id] for track_id in scope.track_ids]
    records = []
    for trainee in ordered:
        for track in tracks:
            standing = standings.get((trainee.trainee_id, track.id))
            if standing is None:
                continue  # the trainee was removed while the table was being read
            last = standing.last_activity
            if scope.since is not None and (last is None or last < scope.since):
                continue
            records.append(
                _record(
                    trainee,
                    track,
                    standing.outcome,
                    assigned.get(trainee.trainee_id, []),
                    cohorts_of.get(trainee.trainee_id, []),
                    certificates,
                    scope.cohort_name,
                    now,
                    last,
                )
            )
    return records


def _certificates(
    session: Session, trainee_ids: Sequence[int] | None
) -> dict[tuple[int, str, str], str]:
    """Certificate ids by (trainee id, track id, content hash)."""
    query = select(
        CertificateRow.trainee_id,
        CertificateRow.track_id,
        CertificateRow.content_hash,
        CertificateRow.certificate_id,
    )
    if trainee_ids is not None:
        query = query.where(col(CertificateRow.trainee_id).in_(list(trainee_ids)))
    return {(t, track, content): cid for t, track, content, cid in session.execute(query)}


def _record(
    trainee: TraineeState,
    track: Track,
    outcome: TrackOutcome,
    assigned: list[AssignedTrack],
    cohorts: list[str],
    certificates: dict[tuple[int, str, str], str],
    cohort_name: str | None,
    now: datetime,
    last_activity: datetime | None,
) -> CompletionRecord:
    for_track = [a for a in assigned if a.track_id == track.id]
    if cohort_name is not None:
        dues = [a.due_at for a in for_track if a.cohort_name == cohort_name]
    else:
        # Active cohorts' due dates first; an archived cohort's still says what was asked.
        active = [a for a in for_track if not a.cohort_archived]
        dues = [a.due_at for a in (active or for_track)]
    known = [d for d in dues if d is not None]
    due_at = min(known) if known else None
    return CompletionRecord(
        trainee_uid=trainee.uid,
        trainee_name=trainee.display_name,
        trainee_email_or_id=trainee.email_or_id,
        trainee_team=trainee.team,
        trainee_archived=trainee.archived_at is not None,
        cohort=cohort_name if cohort_name is not None else ("; ".join(cohorts) or None),
        track_id=track.id,
        track_title=track.title,
        content_hash=outcome.content_hash,
        status=outcome.status,
        items_done=outcome.items_done,
        items_total=outcome.items_total,
        score=outcome.score,
        over_trust_rate=outcome.over_trust_rate,
        under_trust_rate=outcome.under_trust_rate,
        first_started=outcome.first_started,
        completed_at=outcome.completed_at,
        seconds_spent=outcome.seconds_spent,
        due_at=due_at,
        overdue=due_at is not None and due_at < now and outcome.status not in DONE_STATUSES,
        certificate_id=certificates.get((trainee.trainee_id, track.id, outcome.content_hash)),
        last_activity=last_activity,
    )
