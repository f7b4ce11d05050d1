"""Tamper evidence: answers and manager events form a hash chain per trainee.

Each record's hash covers its own canonical content and the hash of the record before
it in the same trainee's chain, so a row changed, inserted or removed outside the app
breaks the chain at that point. Chains are per trainee so that many machines writing
to one team database never contend for a single chain head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS = "0" * 64


def canonical_json(payload: Mapping[str, object]) -> str:
    """A stable text form: sorted keys, no spaces, UTC times in ISO 8601."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=_encode)


def _encode(value: object) -> object:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("chained times must carry a time zone")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, (tuple, frozenset, set)):
        return sorted(value) if isinstance(value, (frozenset, set)) else list(value)
    raise TypeError(f"cannot chain a value of type {type(value).__name__}")


def link_hash(previous: str, payload: Mapping[str, object]) -> str:
    """The hash of a record whose predecessor in the chain has hash ``previous``."""
    digest = hashlib.sha256()
    digest.update(previous.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical_json(payload).encode("utf-8"))
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class ChainLink:
    """One stored record of a chain, as read back for verification."""

    record_id: str
    previous_hash: str
    record_hash: str
    payload: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first record at which a chain does not verify."""

    record_id: str
    reason: str


def verify_chain(links: Iterable[ChainLink]) -> ChainBreak | None:
    """Check links in chain order; return the first break, or None when intact."""
    expected_previous = GENESIS
    for link in links:
        if link.previous_hash != expected_previous:
            return ChainBreak(
                link.record_id,
                "its link to the previous record does not match (a record "
                "before it was removed, inserted or changed)",
            )
        if link_hash(link.previous_hash, link.payload) != link.record_hash:
            return ChainBreak(link.record_id, "its content does not match its hash")
        expected_previous = link.record_hash
    return None
