"""Fixtures for the interface tests: offscreen Qt, a small content pack, a real context."""

from __future__ import annotations

import os

# Before anything starts Qt: the tests never need a display.
os.environ["QT_QPA_PLATFORM"] = "offscreen"

import random
import struct
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QUrl

FLAGS = [
    (
        "blast-radius",
        "Blast radius larger than the problem",
        "Does this touch more than the problem needs?",
    ),
    (
        "access-broadened",
        "Access broader than the task",
        "Does this grant more access than the task needs?",
    ),
    (
        "irreversible",
        "Irreversible or destructive action",
        "Can this be undone, and is there a backup outside its reach?",
    ),
    ("unverified-premise", "Unverified premise", "What proves the assumption this rests on?"),
    (
        "hallucinated-reference",
        "Hallucinated or wrong reference",
        "Do the package, API, flag or resource really exist, and are they the ones meant?",
    ),
    (
        "control-disabled",
        "Safety or security control switched off",
        "Does this switch off a security or safety check?",
    ),
    (
        "data-exposure",
        "Data or secret exposure",
        "Could data or secrets reach someone who should not see them?",
    ),
    (
        "context-ignored",
        "Context, instruction or freeze ignored",
        "Does this ignore the environment, an instruction or a freeze?",
    ),
    (
        "confident-misexplanation",
        "Confident but wrong explanation",
        "Is the explanation confident but wrong or unsupported?",
    ),
    (
        "untrusted-instructions",
        "Instructions from untrusted text",
        "Did this plan come from text that an outsider could write?",
    ),
    (
        "borrowed-credentials",
        "Borrowed or over-scoped credentials",
        "Whose authority is used, and was it given for this?",
    ),
    (
        "agent-self-modification",
        "Agent changing its own rules",
        "Does this change the assistant's own settings, rules or permissions?",
    ),
    (
        "safety-signal-overridden",
        "Safety signal overridden",
        "Did a guard just say no, and does this work around it?",
    ),
]

TWO_STEP = """\
---
id: two-step-grant
title: The grant that grew
summary: A job cannot read a table and the forum agent has a quick fix.
difficulty: 2
minutes: 4
assistant: Forum agent
lessons: [least-privilege]
tags: [cloud-iam]
based_on:
  - title: An internal agent's advice exposed data to employees
    url: https://example.org/report
    note: Details were never published; this scenario is fictional.
steps:
  - id: grant
    answer: reject
    flags: [access-broadened, blast-radius]
    decoys: [hallucinated-reference]
  - id: narrow
    answer: revise
    flags: [unverified-premise]
    decoys: [irreversible]
    revisions:
      - text: "Grant `READ` on the whole `warehouse` namespace"
      - text: "Ask the owner to grant `SELECT` on the one table to the job's account"
        correct: true
      - text: "Run the job as an administrator for tonight"
---

## Situation

The nightly report job fails with `permission denied` on `sales.orders`.

## Suggestion (grant)

Grant read on everything so it stops failing:

```sh
warehouse grant read --all --to job-account
```

## If accepted (grant)

GRANT-ACCEPTED: every employee can now read the salary tables.

## If rejected (grant)

GRANT-REJECTED: the job stays broken for an hour while you ask the owner.

## Suggestion (narrow)

The agent comes back with a narrower idea and offers revisions.

```diff
- grant read --all
+ grant select on sales.orders
```

## If accepted (narrow)

NARROW-ACCEPTED: the grant went to the wrong account.

## If rejected (narrow)

NARROW-REJECTED: the report misses its deadline.

## If revised (narrow)

NARROW-REVISED: the owner grants exactly one table and the job runs.

## Debrief

DEBRIEF-TEXT: the access error was real, the fix was far too broad.
"""

EASY_ACCEPT = """\
---
id: easy-accept
title: A typo in a log message
summary: The assistant fixes a spelling mistake.
difficulty: 1
tags: [shell-files]
lessons: [blast-radius]
steps:
  - id: typo
    answer: accept
    decoys: [irreversible]
    checks:
      - label: Read the whole diff
        minutes: 2
        reveals: "One word changes, in one log line of `log.py`."
---

## Situation

A log line says `recieved`.

## Suggestion

Change `recieved` to `received` in `log.py`.

## If accepted

EASY-ACCEPTED: the log reads well.

## If rejected

EASY-REJECTED: the typo stays.

## Debrief

EASY-DEBRIEF: not every suggestion is dangerous.
"""

HARD_DROP = """\
---
id: hard-drop
title: Cleaning up the old tables
summary: The assistant proposes to tidy the database.
difficulty: 3
tags: [databases]
lessons: [blast-radius]
steps:
  - id: drop
    answer: reject
    flags: [irreversible, blast-radius]
    decoys: [data-exposure]
    checks:
      - label: List what depends on `legacy`
        minutes: 2
        reveals: "CHECK-DEPENDS: `pg_depend` lists **14 views** in `billing` that read `legacy`."
      - label: Look for a recent backup
        minutes: 3
        reveals: "CHECK-BACKUP: the last backup of `legacy` is *nine days* old."
---

## Situation

The database has old tables.

## Suggestion

```sql
DROP SCHEMA legacy CASCADE;
```

## If accepted

HARD-ACCEPTED: the billing views depended on it.

## If rejected

HARD-REJECTED: nothing breaks.

## Debrief

HARD-DEBRIEF: cascade drops reach further than they look.
"""

LESSONS = {
    "least-privilege": (
        1,
        "Least privilege",
        "Grant the one permission that is missing.",
        "## Why\n\nGrant what is missing, no more.\n\n![diagram](assets/dot.png)\n\n"
        "| a | b |\n| - | - |\n| 1 | 2 |\n\n```python\nprint('hi')\n```\n\n"
        "[Read more](https://example.org/least)\n",
    ),
    "blast-radius": (
        2,
        "Blast radius",
        "What else does this touch?",
        "## Scope\n\nKeep it small.\n",
    ),
}

TRACK = """\
id: starter
title: Starter track
summary: The first things to do.
items:
  - lesson: least-privilege
  - scenario: two-step-grant
  - scenario: easy-accept
"""

BROKEN = """\
---
id: broken-one
title: Broken
summary: s
difficulty: 7
steps: []
---
"""


def tiny_png() -> bytes:
    """A valid 1x1 PNG, built by hand so the pack needs no image tools."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x2b\x5f\x8f\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def write_pack(root: Path, *, broken: bool = False) -> Path:
    """A small but complete content pack in ``root``."""
    (root / "scenarios").mkdir(parents=True)
    (root / "lessons" / "tracks").mkdir(parents=True)
    (root / "assets").mkdir()
    flags = []
    for flag_id, title, question in FLAGS:
        flags.append(
            f'- id: {flag_id}\n  title: {title}\n  question: "{question}"\n'
            f"  description: About {title.lower()}.\n"
        )
    (root / "scenarios" / "red-flags.yaml").write_text("".join(flags), encoding="utf-8")
    (root / "scenarios" / "two-step-grant.md").write_text(TWO_STEP, encoding="utf-8")
    (root / "scenarios" / "easy-accept.md").write_text(EASY_ACCEPT, encoding="utf-8")
    (root / "scenarios" / "hard-drop.md").write_text(HARD_DROP, encoding="utf-8")
    for lesson_id, (order, title, summary, body) in LESSONS.items():
        front = f"---\nid: {lesson_id}\ntitle: {title}\nsummary: {summary}\norder: {order}\n---\n\n"
        (root / "lessons" / f"{lesson_id}.md").write_text(front + body, encoding="utf-8")
    (root / "lessons" / "tracks" / "starter.yaml").write_text(TRACK, encoding="utf-8")
    (root / "assets" / "dot.png").write_bytes(tiny_png())
    if broken:
        (root / "scenarios" / "broken-one.md").write_text(BROKEN, encoding="utf-8")
    return root


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    return write_pack(tmp_path / "pack")


@pytest.fixture
def make_pack(tmp_path: Path) -> Callable[..., Path]:
    """Writes another test pack under ``tmp_path``: ``make_pack(name, broken=False)``."""
    return lambda name, broken=False: write_pack(tmp_path / name, broken=broken)


@pytest.fixture
def make_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """Opens a real AppContext whose built-in pack is a test pack; closes them all after."""
    from app.services.bootstrap import AppConfig, open_context

    opened: list[Any] = []

    def make(pack_root: Path, data_dir: Path | None = None) -> Any:
        monkeypatch.setattr("app.content.loader.builtin_pack_root", lambda: pack_root)
        config = AppConfig(data_dir=data_dir or tmp_path / "data")
        context = open_context(config)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


@pytest.fixture
def context(make_context: Callable[..., Any], pack: Path) -> Any:
    return make_context(pack)


class RecordingOpener:
    """Stands in for the desktop's browser: records the links it is asked to open."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, url: QUrl) -> bool:
        self.urls.append(url.toString())
        return True


@pytest.fixture
def opener() -> RecordingOpener:
    return RecordingOpener()


@pytest.fixture
def rng() -> random.Random:
    return random.Random(7)


class Clock:
    """The time the interface is told, for the review schedule; tests move it forward."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def workspace(
    qtbot: Any, context: Any, opener: RecordingOpener, rng: random.Random, clock: Clock
) -> Any:
    """The loaded main window for a trainee "Ada Example", shown and active."""
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow
    from app.ui.style import apply_theme
    from app.ui.workspace import Workspace

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app)
    window = MainWindow()
    qtbot.addWidget(window)
    space = Workspace(window, context, open_url=opener, rng=rng, now=clock)
    space.set_profile(context.training.create_profile("Ada Example", "ada-001", "Platform"))
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return space


def press(qtbot: Any, key: Any, modifier: Any = None) -> None:
    """Press a key where the keyboard focus is, as a trainee would."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    target = QApplication.focusWidget()
    assert target is not None, "nothing has the keyboard focus"
    qtbot.keyClick(target, key, modifier or Qt.KeyboardModifier.NoModifier)


@pytest.fixture
def press_key(qtbot: Any) -> Callable[..., None]:
    return lambda key, modifier=None: press(qtbot, key, modifier)


def click_on_text(qtbot: Any, view: Any, text: str) -> None:
    """Click with the mouse in the middle of ``text`` inside a text view."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QTextCursor

    found = view.document().find(text)
    assert not found.isNull(), f"{text!r} is not in the view"
    cursor = QTextCursor(view.document())
    cursor.setPosition(found.selectionStart() + len(text) // 2)
    view.setTextCursor(cursor)
    view.ensureCursorVisible()
    point = view.cursorRect(cursor).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)


@pytest.fixture
def click_link(qtbot: Any) -> Callable[[Any, str], None]:
    return lambda view, text: click_on_text(qtbot, view, text)
