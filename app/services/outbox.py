"""The local outbox: answers kept on this computer while the team database is out of reach.

With a team database (a PostgreSQL server), an answer that cannot be written because the
server cannot be reached is judged and shown as usual, and kept in a small SQLite file in
the data folder, ``outbox.db``, until :class:`OutboxSender` can send it. Its attempt id and
answer time are fixed before the first try, and the server keeps an attempt id once only
(``TrainingService.store_answer``), so every answer arrives exactly once: an entry leaves the
outbox only after the server committed it, and should the app stop between the commit and
that removal, the next send finds the answer already there and just removes the entry.

The outbox file is a queue, not part of the app's database: it is opened with the standard
``sqlite3`` module (WAL journal, ``synchronous=FULL``, so a queued answer survives a crash or
power loss), its one table is created with ``CREATE TABLE IF NOT EXISTS`` and its format is
versioned with ``PRAGMA user_version``; the Alembic migrations do not manage it. Entries name
the database they are meant for (its address without the password) and are only ever sent
there. A damaged file is kept aside under a new name, with a message saying where, and a new
one is started, so a bad file never stops training.

With the SQLite file of a single machine there is no outbox: a failed write is an error, as
it always was.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.storage.errors import (
    DatabaseCorrupt,
    DatabaseUnreachable,
    StorageError,
    from_os_error,
    translate_error,
)

if TYPE_CHECKING:
    from app.core.judging import StepAnswer, StepOutcome
    from app.core.model import Scenario, Step
    from app.core.records import AnswerRecord, Profile
    from app.services.training import JudgedAnswer, TrainingService

_log = logging.getLogger(__name__)

OUTBOX_FILE_NAME = "outbox.db"
OUTBOX_FORMAT = 1
"""The outbox file's format (``PRAGMA user_version``); a newer one is kept aside, unread."""
RETRY_DELAYS: tuple[float, ...] = (2.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0)
"""Seconds to wait after the 1st, 2nd, ... failed send in a row (the last one repeats)."""
DEFAULT_BUSY_TIMEOUT = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending_answer (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    attempt_id TEXT NOT NULL UNIQUE,
    database TEXT NOT NULL,
    trainee_uid TEXT NOT NULL,
    answer TEXT NOT NULL,
    queued_at TEXT NOT NULL,
    held_reason TEXT
)
"""
_COLUMNS = ("seq", "attempt_id", "database", "trainee_uid", "answer", "queued_at", "held_reason")


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class PendingAnswer:
    """One answer in the outbox.

    ``values`` are the answer's stored fields (``JudgedAnswer.values``); ``database`` is
    the address (without password) it is meant for; ``held_reason`` is set when the server
    refused it for good (then it stays in the file, but is no longer sent).
    """

    seq: int
    attempt_id: str
    database: str
    trainee_uid: str
    values: Mapping[str, Any]
    queued_at: datetime
    held_reason: str | None = None


class Outbox:
    """The outbox file. Open it with :meth:`open`; every method is one short transaction.

    ``problem`` says, when the file found was unusable, where it was kept and that a new
    one was started (``None`` otherwise). Methods raise a
    :class:`~app.storage.errors.StorageError` subclass when the file cannot be written.
    """

    def __init__(self, path: Path, connection: sqlite3.Connection, problem: str | None) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = connection
        self._lock = threading.Lock()
        self.problem = problem

    @classmethod
    def open(cls, path: Path, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Outbox:
        """Open (creating if needed) the outbox at ``path``.

        A damaged file, or one written by a newer Think Twice, is renamed aside (see
        ``problem``) and a new one started.
        """
        location = str(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise from_os_error(error, location) from error
        problem: str | None = None
        try:
            connection = _connect(path, busy_timeout)
        except _UnusableOutboxError as unusable:
            aside = _set_aside(path)
            problem = (
                f"The outbox {path} could not be used ({unusable}). It was kept as {aside} "
                "and a new, empty outbox was started; answers in the old file were not "
                "sent. Keep that file and ask for help to recover them."
            )
            _log.warning("%s", problem)
            try:
                connection = _connect(path, busy_timeout)
            except _UnusableOutboxError as again:
                raise DatabaseCorrupt(
                    f"A new outbox could not be started at {path} ({again}).", location=location
                ) from again
        return cls(path, connection, problem)

    @property
    def path(self) -> Path:
        """The outbox file."""
        return self._path

    def put(
        self, judged: JudgedAnswer, database: str, *, queued_at: datetime | None = None
    ) -> PendingAnswer:
        """Queue ``judged`` for ``database``; returns once it is durably on disk.

        Queuing the same attempt id again changes nothing.
        """
        moment = queued_at or utc_now()
        text = json.dumps(_encode_values(judged.values), sort_keys=True, ensure_ascii=False)
        with self._write() as connection:
            connection.execute(
                "INSERT INTO pending_answer (attempt_id, database, trainee_uid, answer, "
                "queued_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (attempt_id) DO NOTHING",
                (judged.attempt_id, database, judged.trainee_uid, text, moment.isoformat()),
            )
            row = connection.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM pending_answer WHERE attempt_id = ?",
                (judged.attempt_id,),
            ).fetchone()
        return _pending(row)

    def pending(self, database: str) -> list[PendingAnswer]:
        """The answers waiting to be sent to ``database``, oldest first (held ones left out;
        an entry that cannot be read comes with ``held_reason`` set, for the sender to hold)."""
        return self._select("database = ? AND held_reason IS NULL", (database,))

    def held(self, database: str) -> list[PendingAnswer]:
        """The answers the server refused for good, oldest first."""
        return self._select("database = ? AND held_reason IS NOT NULL", (database,))

    def count(self, database: str) -> int:
        """How many answers wait to be sent to ``database``."""
        return self._count("database = ? AND held_reason IS NULL", (database,))

    def held_count(self, database: str) -> int:
        """How many answers for ``database`` were refused for good and are kept here."""
        return self._count("database = ? AND held_reason IS NOT NULL", (database,))

    def remove(self, attempt_id: str) -> None:
        """Take an answer out (once the server has committed it)."""
        with self._write() as connection:
            connection.execute("DELETE FROM pending_answer WHERE attempt_id = ?", (attempt_id,))

    def hold(self, attempt_id: str, reason: str) -> None:
        """Keep an answer the server refused for good, and stop sending it."""
        with self._write() as connection:
            connection.execute(
                "UPDATE pending_answer SET held_reason = ? WHERE attempt_id = ?",
                (reason, attempt_id),
            )

    def close(self) -> None:
        """Close the file (everything queued is already on disk)."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _select(self, where: str, parameters: Sequence[object]) -> list[PendingAnswer]:
        with self._read() as connection:
            rows = connection.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM pending_answer WHERE {where} ORDER BY seq",
                parameters,
            ).fetchall()
        return [_pending(row) for row in rows]

    def _count(self, where: str, parameters: Sequence[object]) -> int:
        with self._read() as connection:
            row = connection.execute(
                f"SELECT count(*) FROM pending_answer WHERE {where}", parameters
            ).fetchone()
        return int(row[0])

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._translated():
            yield self._open_connection()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._translated():
            connection = self._open_connection()
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def _open_connection(self) -> sqlite3.Connection:
        if self._connection is None:
            raise StorageError(f"The outbox {self._path} is closed.", location=str(self._path))
        return self._connection

    @contextmanager
    def _translated(self) -> Iterator[None]:
        location = str(self._path)
        try:
            yield
        except StorageError:
            raise
        except OSError as error:
            raise from_os_error(error, location) from error
        except sqlite3.Error as error:
            found = translate_error(error, location) or StorageError(
                f"The outbox {location} reported an error ({error}).", location=location
            )
            raise found from error


class _UnusableOutboxError(Exception):
    """The outbox file is damaged, or is not an outbox this version can read."""


def _connect(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """Open and check the outbox file; raises ``_UnusableOutboxError`` for a file to set aside."""
    location = str(path)
    try:
        connection = sqlite3.connect(
            location, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as error:
        raise _as_storage_error(error, location) from error
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        # FULL: a queued answer must survive a power loss, not only a crash.
        connection.execute("PRAGMA synchronous=FULL")
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        if version > OUTBOX_FORMAT:
            raise _UnusableOutboxError(
                f"it was written by a newer version of Think Twice (format {version})"
            )
        verdict = str(connection.execute("PRAGMA quick_check").fetchone()[0])
        if verdict != "ok":
            raise _UnusableOutboxError(f"the file is damaged: {verdict}")
        connection.execute(_SCHEMA)
        columns = tuple(
            str(row[1]) for row in connection.execute("PRAGMA table_info(pending_answer)")
        )
        if columns != _COLUMNS:
            raise _UnusableOutboxError("it holds a table Think Twice does not know")
        if version != OUTBOX_FORMAT:
            connection.execute(f"PRAGMA user_version={OUTBOX_FORMAT}")
    except _UnusableOutboxError:
        connection.close()
        raise
    except sqlite3.Error as error:
        connection.close()
        found = translate_error(error, location)
        if found is None or isinstance(found, DatabaseCorrupt):
            raise _UnusableOutboxError(str(error)) from error
        raise found from error
    return connection


def _as_storage_error(error: sqlite3.Error, location: str) -> StorageError:
    return translate_error(error, location) or StorageError(
        f"The outbox {location} could not be opened ({error}).", location=location
    )


def _set_aside(path: Path) -> Path:
    """Rename the outbox (and its WAL, which may hold its newest entries) to a new name."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.unusable-{stamp}")
    counter = 2
    while aside.exists():
        aside = path.with_name(f"{path.name}.unusable-{stamp}-{counter}")
        counter += 1
    try:
        os.replace(path, aside)
        for suffix in ("-wal", "-shm"):
            companion = path.with_name(path.name + suffix)
            if companion.exists():
                os.replace(companion, aside.with_name(aside.name + suffix))
    except OSError as error:
        raise from_os_error(error, str(path)) from error
    return aside


def _encode_values(values: Mapping[str, Any]) -> dict[str, Any]:
    encoded = dict(values)
    moment = encoded.get("answered_at")
    if isinstance(moment, datetime):
        encoded["answered_at"] = moment.isoformat()
    return encoded


def _decode_values(text: str) -> dict[str, Any]:
    values = json.loads(text)
    if not isinstance(values, dict):
        raise ValueError("an outbox entry does not hold an answer")
    moment = values.get("answered_at")
    if isinstance(moment, str):
        values["answered_at"] = datetime.fromisoformat(moment)
    return values


def _pending(row: Sequence[Any]) -> PendingAnswer:
    seq, attempt_id, database, trainee_uid, text, queued_at, held_reason = row
    try:
        values = _decode_values(text)
    except ValueError as error:
        # Shown as held, so one bad entry never blocks those behind it.
        values = {}
        held_reason = held_reason or f"the entry could not be read ({error})"
    return PendingAnswer(
        seq=int(seq),
        attempt_id=str(attempt_id),
        database=str(database),
        trainee_uid=str(trainee_uid),
        values=values,
        queued_at=datetime.fromisoformat(queued_at),
        held_reason=held_reason,
    )


def outbox_key(location: str) -> str:
    """What a database's entries are filed under: its address without any password.

    The same server is the same key whether its password came from the address, the
    keyring or ``PGPASSWORD`` (``location`` may show it as ``***``).
    """
    from app.services.credentials import split_password

    try:
        return split_password(location).url
    except ValueError:
        return location


# Sending


@dataclass(frozen=True)
class FlushResult:
    """What one send of the outbox did.

    ``sent``: answers the server newly stored; ``already_stored``: answers it had already
    (an earlier send was committed but not taken out of the outbox); ``held``: answers it
    refused for good in this send (kept in the file, not sent again); ``waiting``: answers
    still to send afterwards; ``error``: why sending stopped early (the server's message),
    else ``None``; ``tried_at``: when the server was tried (``None``: nothing to send).
    """

    sent: int = 0
    already_stored: int = 0
    held: int = 0
    waiting: int = 0
    error: str | None = None
    tried_at: datetime | None = None


@dataclass(frozen=True)
class OutboxState:
    """The outbox for the status bar: how many wait, and how the last try went."""

    waiting: int
    held: int
    last_tried_at: datetime | None
    last_error: str | None
    next_try_at: datetime | None


class OutboxSender:
    """Sends the outbox's answers for one database, in order, each once, with back-off.

    ``database`` is the address (without password) the entries are for: that of the
    database ``training`` writes to. ``clock`` tells the time (tests move it on);
    ``retry_delays`` are the waits after consecutive failures. Nothing here runs by itself:
    the interface calls :meth:`flush_if_due` on a timer, from a worker thread so that a
    server that does not answer never freezes the window. One send runs at a time; a
    caller that must not wait (the recorder, on the interface's thread) passes
    ``wait=False`` and is told nothing was tried while another send is under way.
    """

    def __init__(
        self,
        outbox: Outbox,
        training: TrainingService,
        database: str,
        *,
        clock: Callable[[], datetime] = utc_now,
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        if not retry_delays:
            raise ValueError("retry_delays needs at least one delay")
        self._outbox = outbox
        self._training = training
        self._database = database
        self._clock = clock
        self._delays = tuple(retry_delays)
        self._failures = 0
        self._last_tried_at: datetime | None = None
        self._last_error: str | None = None
        self._sending = threading.Lock()

    @property
    def outbox(self) -> Outbox:
        """The outbox file this sender empties."""
        return self._outbox

    @property
    def database(self) -> str:
        """The address (without password) of the database answers are sent to."""
        return self._database

    def waiting(self) -> int:
        """How many answers wait to be sent (0 when the outbox cannot be read)."""
        try:
            return self._outbox.count(self._database)
        except StorageError as error:
            _log.warning("outbox: could not count the waiting answers: %s", error)
            return 0

    def next_try_at(self) -> datetime | None:
        """When the next send is due after failures (``None``: whenever there is work)."""
        if self._failures == 0 or self._last_tried_at is None:
            return None
        delay = self._delays[min(self._failures, len(self._delays)) - 1]
        return self._last_tried_at + timedelta(seconds=delay)

    def is_due(self) -> bool:
        """Whether answers wait and the back-off after the last failure has passed."""
        if self.waiting() == 0:
            return False
        due_at = self.next_try_at()
        return due_at is None or self._clock() >= due_at

    @property
    def sending(self) -> bool:
        """Whether a send is under way (on another thread, usually)."""
        return self._sending.locked()

    def flush_if_due(self, *, wait: bool = True) -> FlushResult | None:
        """:meth:`flush` when :meth:`is_due`, else ``None`` (nothing tried).

        With ``wait=False`` it also returns ``None`` at once when another send is under
        way, instead of waiting for it to end.
        """
        if not self.is_due():
            return None
        if not self._sending.acquire(blocking=wait):
            return None
        try:
            return self._flush_held()
        finally:
            self._sending.release()

    def note_failure(self, message: str) -> None:
        """Count a failed write met elsewhere (by the recorder) toward the back-off."""
        self._failures += 1
        self._last_tried_at = self._clock()
        self._last_error = message

    def flush(self) -> FlushResult:
        """Send every waiting answer, oldest first, now; never raises.

        Each answer is its own transaction and leaves the outbox only after the server
        committed it. Sending stops at the first answer the server cannot take now (the
        rest wait for the next try, after the back-off); an answer it refuses for good is
        held in the file and sending goes on with the next. Waits for a send under way on
        another thread to end first.
        """
        with self._sending:
            return self._flush_held()

    def _flush_held(self) -> FlushResult:
        # The caller holds self._sending, so entries are never sent twice at once.
        try:
            entries = self._outbox.pending(self._database)
        except StorageError as error:
            return self._failed(FlushResult(error=error.message, tried_at=self._clock()))
        if not entries:
            self._failures = 0
            return FlushResult()
        tried_at = self._clock()
        sent = already = held = 0
        error_message: str | None = None
        for entry in entries:
            if entry.held_reason is not None:  # an entry that could not be read
                self._hold(entry, entry.held_reason)
                held += 1
                continue
            try:
                stored = self._training.store_answer(entry.values, entry.trainee_uid)
            except ValueError as refused:
                self._hold(entry, str(refused))
                held += 1
                continue
            except StorageError as error:
                error_message = error.message
                break
            except Exception as error:
                # Never let a surprise stop the app's timer; it is logged and retried.
                _log.exception("sending answer %s from the outbox failed", entry.attempt_id)
                error_message = f"{type(error).__name__}: {error}"
                break
            try:
                self._outbox.remove(entry.attempt_id)
            except StorageError as error:
                # The server has it; the next send finds it there and removes it then.
                error_message = error.message
                break
            if stored.already_stored:
                already += 1
            else:
                sent += 1
        waiting = self.waiting()
        result = FlushResult(
            sent=sent,
            already_stored=already,
            held=held,
            waiting=waiting,
            error=error_message,
            tried_at=tried_at,
        )
        if sent or already or held:
            _log.info(
                "outbox: %d sent, %d already there, %d held, %d waiting",
                sent,
                already,
                held,
                waiting,
            )
        if error_message is not None:
            return self._failed(result)
        self._failures = 0
        self._last_tried_at = tried_at
        self._last_error = None
        return result

    def state(self) -> OutboxState:
        """How many answers wait, how many are held, and how the last try went."""
        return OutboxState(
            waiting=self.waiting(),
            held=self._safe_held(),
            last_tried_at=self._last_tried_at,
            last_error=self._last_error,
            next_try_at=self.next_try_at(),
        )

    def _failed(self, result: FlushResult) -> FlushResult:
        self._failures += 1
        self._last_tried_at = result.tried_at
        self._last_error = result.error
        _log.info("outbox: sending stopped (%s); %d waiting", result.error, result.waiting)
        return result

    def _hold(self, entry: PendingAnswer, reason: str) -> None:
        _log.warning("outbox: answer %s refused for good: %s", entry.attempt_id, reason)
        try:
            self._outbox.hold(entry.attempt_id, reason)
        except StorageError as error:
            _log.warning("outbox: could not mark answer %s held: %s", entry.attempt_id, error)

    def _safe_held(self) -> int:
        try:
            return self._outbox.held_count(self._database)
        except StorageError:
            return 0


# Recording with the outbox as a fallback


@dataclass(frozen=True)
class RecordedAnswer:
    """A submitted answer: as recorded, what it led to, and where it is now.

    ``queued`` is set when the answer is kept in the outbox on this computer, to be sent
    once the server is back (it is not yet in the team database); ``waiting`` is then how
    many answers wait in all.
    """

    record: AnswerRecord
    outcome: StepOutcome
    queued: bool = False
    waiting: int = 0


class AnswerRecorder:
    """Records answers, keeping them in the outbox when the team server is out of reach.

    ``sender`` is ``None`` for a SQLite file: then a failed write is an error as always.
    ``clock`` gives the answer time, fixed (with the attempt id) before the first try.
    """

    def __init__(
        self,
        training: TrainingService,
        sender: OutboxSender | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._training = training
        self._sender = sender
        self._clock = clock

    @property
    def sender(self) -> OutboxSender | None:
        """The outbox sender, with a team database; ``None`` with a SQLite file."""
        return self._sender

    def record(
        self,
        profile: Profile,
        scenario: Scenario,
        step: Step,
        answer: StepAnswer,
        play_id: str,
    ) -> RecordedAnswer:
        """Judge and keep an answer: in the database, or else in the outbox.

        While older answers wait in the outbox, a new one queues behind them (after a send
        is tried, if one is due), so answers reach the server in the order given. Raises
        ``ValueError`` for an answer that does not fit the step, and a
        :class:`~app.storage.errors.StorageError` when it could be kept nowhere.
        """
        judged = self._training.judge_answer(
            profile,
            scenario,
            step,
            answer,
            play_id,
            attempt_id=uuid.uuid4().hex,
            answered_at=self._clock(),
        )
        sender = self._sender
        if sender is None:
            stored = self._training.store_answer(judged.values, judged.trainee_uid)
            return RecordedAnswer(stored.record, judged.outcome)
        if sender.waiting():
            # Never wait here for a send on another thread: the trainee is waiting.
            sender.flush_if_due(wait=False)
            if sender.waiting():
                return self._queue(sender, judged)
        try:
            stored = self._training.store_answer(judged.values, judged.trainee_uid)
        except DatabaseUnreachable as error:
            sender.note_failure(error.message)
            return self._queue(sender, judged)
        return RecordedAnswer(stored.record, judged.outcome)

    def _queue(self, sender: OutboxSender, judged: JudgedAnswer) -> RecordedAnswer:
        try:
            sender.outbox.put(judged, sender.database)
        except StorageError as error:
            raise StorageError(
                "The team database cannot be reached, and the answer could not be kept on "
                f"this computer either: {error.message}",
                location=error.location,
            ) from error
        _log.info("answer %s kept in the outbox", judged.attempt_id)
        return RecordedAnswer(
            judged.record(), judged.outcome, queued=True, waiting=sender.waiting()
        )
