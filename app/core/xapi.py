"""xAPI 1.0.3 statements for answered steps and track outcomes.

Statement ids are name-based UUIDs (version 5) derived from what the statement records,
so exporting and sending the same records again yields the same ids and a learning
record store treats the repeat as a duplicate, not as new learning.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from app.core.completion import CompletionStatus, TrackOutcome
from app.core.model import Decision, Track
from app.core.records import AnswerRecord, Profile
from app.core.scoring import step_score

XAPI_VERSION = "1.0.3"
PLATFORM = "Think Twice"
LANGUAGE = "en-US"
STATEMENT_NAMESPACE = uuid.UUID("4d2c8f8e-6b3f-5b8e-9a57-1f0c3e2d7a10")
VERB_ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
OUTCOME_VERBS = {
    CompletionStatus.COMPLETED: "http://adlnet.gov/expapi/verbs/completed",
    CompletionStatus.PASSED: "http://adlnet.gov/expapi/verbs/passed",
    CompletionStatus.FAILED: "http://adlnet.gov/expapi/verbs/failed",
    CompletionStatus.WAIVED: "https://w3id.org/xapi/adl/verbs/waived",
}
ACTIVITY_INTERACTION = "http://adlnet.gov/expapi/activities/cmi.interaction"
ACTIVITY_COURSE = "http://adlnet.gov/expapi/activities/course"
ACTIVITY_SIMULATION = "http://adlnet.gov/expapi/activities/simulation"


def iso_duration(seconds: float) -> str:
    """An ISO 8601 duration such as ``PT1M2.5S``, to hundredths of a second."""
    centiseconds = round(max(0.0, seconds) * 100)
    hours, rest = divmod(centiseconds, 360_000)
    minutes, rest = divmod(rest, 6_000)
    whole, hundredths = divmod(rest, 100)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if whole or hundredths or text == "PT":
        text += f"{whole}.{hundredths:02d}S" if hundredths else f"{whole}S"
    return text


def iso_timestamp(moment: datetime) -> str:
    """UTC in ISO 8601 with a ``Z``, milliseconds kept."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def actor(profile: Profile, home_page: str) -> dict[str, object]:
    """The trainee as an xAPI account agent (home page plus the trainee's stable id)."""
    return {
        "objectType": "Agent",
        "name": profile.display_name,
        "account": {"homePage": home_page, "name": profile.uid},
    }


def _activity_base(home_page: str) -> str:
    return home_page.rstrip("/") + "/thinktwice"


def _registration(play_id: str) -> str:
    try:
        return str(uuid.UUID(hex=play_id))
    except ValueError:
        return str(uuid.uuid5(STATEMENT_NAMESPACE, f"play:{play_id}"))


def answered_statement(
    record: AnswerRecord, profile: Profile, home_page: str, scenario_title: str
) -> dict[str, object]:
    """One statement for one answered step (verb *answered*)."""
    base = _activity_base(home_page)
    scenario_iri = f"{base}/scenarios/{record.scenario_id}"
    response = record.decision.value
    if record.revision_index is not None:
        response += f"[,]revision-{record.revision_index + 1}"
    definition: dict[str, object] = {
        "name": {LANGUAGE: f"{scenario_title}: step {record.step_id}"},
        "type": ACTIVITY_INTERACTION,
        "interactionType": "choice",
        "choices": [{"id": d.value, "description": {LANGUAGE: d.value}} for d in Decision],
    }
    if record.expected is not None:
        definition["correctResponsesPattern"] = [record.expected.value]
    return {
        "id": str(uuid.uuid5(STATEMENT_NAMESPACE, f"answered:{record.attempt_id}")),
        "actor": actor(profile, home_page),
        "verb": {"id": VERB_ANSWERED, "display": {LANGUAGE: "answered"}},
        "object": {
            "objectType": "Activity",
            "id": f"{scenario_iri}/steps/{record.step_id}",
            "definition": definition,
        },
        "result": {
            "success": record.correct,
            "response": response,
            "duration": iso_duration(record.seconds),
            "score": {"scaled": step_score(record).total},
        },
        "context": {
            "registration": _registration(record.play_id),
            "platform": PLATFORM,
            "language": LANGUAGE,
            "contextActivities": {
                "parent": [
                    {
                        "objectType": "Activity",
                        "id": scenario_iri,
                        "definition": {
                            "name": {LANGUAGE: scenario_title},
                            "type": ACTIVITY_SIMULATION,
                        },
                    }
                ]
            },
        },
        "timestamp": iso_timestamp(record.answered_at),
        "version": XAPI_VERSION,
    }


def outcome_statement(
    outcome: TrackOutcome, track: Track, profile: Profile, home_page: str
) -> dict[str, object] | None:
    """One statement for a track outcome, or None while it is not started or in progress."""
    verb = OUTCOME_VERBS.get(outcome.status)
    if verb is None or (
        outcome.completed_at is None and outcome.status is not CompletionStatus.WAIVED
    ):
        return None
    when = outcome.completed_at or outcome.first_started or datetime.now(UTC)
    result: dict[str, object] = {
        "completion": outcome.status is not CompletionStatus.WAIVED,
        "duration": iso_duration(outcome.seconds_spent),
    }
    if outcome.status in (CompletionStatus.PASSED, CompletionStatus.FAILED):
        result["success"] = outcome.status is CompletionStatus.PASSED
    if outcome.score is not None:
        result["score"] = {"scaled": round(outcome.score, 4)}
    key = f"outcome:{profile.uid}:{track.id}:{outcome.status.value}:{outcome.content_hash}"
    return {
        "id": str(uuid.uuid5(STATEMENT_NAMESPACE, key)),
        "actor": actor(profile, home_page),
        "verb": {"id": verb, "display": {LANGUAGE: outcome.status.value}},
        "object": {
            "objectType": "Activity",
            "id": f"{_activity_base(home_page)}/tracks/{track.id}",
            "definition": {"name": {LANGUAGE: track.title}, "type": ACTIVITY_COURSE},
        },
        "result": result,
        "context": {"platform": PLATFORM, "language": LANGUAGE},
        "timestamp": iso_timestamp(when),
        "version": XAPI_VERSION,
    }
