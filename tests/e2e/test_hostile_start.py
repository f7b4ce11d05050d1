"""End-to-end: the real app starts with the whole hostile corpus loaded beside the built-in
content, and its Content problems page lists every bad file as ``path:line: message``.

The corpus (tests/data/hostile, see its README) is laid out as extra packs: one pack with
every scenario, lesson and track file (and the neutralised Markdown), one pack per
red-flag catalogue and per pack.yaml, plus a 50 MB file and symbolic links out of the
pack built here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.driver import REPO, run_driven

pytestmark = pytest.mark.e2e

HOSTILE = REPO / "tests" / "data" / "hostile"
PROBLEM = re.compile(r"^problem (?P<path>/[^:]+):(?P<line>\d+): (?P<message>\S.*)$")
# Well formed, and a duplicate only of the unit tests' own pack: it loads beside the
# built-in content, which has no scenario with its id.
LOADS_HERE = {"scenarios/sample-scenario.md"}


def _build_packs(root: Path) -> tuple[list[Path], dict[Path, str]]:
    """The extra packs, and the hostile files expected among the problems."""
    main = root / "hostile"
    expected: dict[Path, str] = {}
    places = {"scenarios": "scenarios", "lessons": "lessons", "tracks": "lessons/tracks"}
    for kind, place in places.items():
        for source in sorted((HOSTILE / kind).iterdir()):
            target = main / place / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            if f"{kind}/{source.name}" not in LOADS_HERE:
                expected[target] = f"{kind}/{source.name}"
    for source in sorted((HOSTILE / "neutralised").iterdir()):
        shutil.copyfile(source, main / "scenarios" / source.name)
    packs = [main]
    for kind, place in (("red-flags", "scenarios/red-flags.yaml"), ("packs", "pack.yaml")):
        for number, source in enumerate(sorted((HOSTILE / kind).iterdir()), start=1):
            pack = root / f"{kind}-{number}"
            target = pack / place
            target.parent.mkdir(parents=True)
            shutil.copyfile(source, target)
            packs.append(pack)
            expected[target] = f"{kind}/{source.name}"
    huge = main / "scenarios" / "huge.md"
    with huge.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: 50 MB that costs no disk
    expected[huge] = "a 50 MB file"
    secret = root / "outside-secret.md"
    secret.write_text("---\nid: outside-secret\n---\nnot for the app\n", encoding="utf-8")
    for link in (main / "scenarios" / "outside.md", main / "lessons" / "outside.md"):
        link.symlink_to(secret)
        expected[link] = "a symbolic link out of the pack"
    return packs, expected


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges there")
def test_the_app_starts_with_the_hostile_corpus_and_lists_every_problem(tmp_path: Path) -> None:
    packs, expected = _build_packs(tmp_path / "packs")
    content = [argument for pack in packs for argument in ("--content", str(pack))]
    data = tmp_path / "state"

    smoke = subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data), *content, "--smoke-test"],
        cwd=REPO,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert smoke.returncode == 0, smoke.stderr
    assert "Traceback" not in smoke.stderr

    driven = run_driven(
        "--data-dir", str(data), "--profile", "Ada", *content, commands=["problems"]
    )
    assert driven.returncode == 0, driven.stderr
    lines = driven.stdout.splitlines()
    assert "problems-end" in lines
    problems = [line for line in lines if line.startswith("problem ")]
    for line in problems:
        assert PROBLEM.match(line), f"not a path:line: message line: {line!r}"
        assert "unexpected error" not in line
    listed = {Path(m["path"]) for m in map(PROBLEM.match, problems) if m is not None}
    missing = sorted(what for path, what in expected.items() if path not in listed)
    assert missing == [], f"hostile files not listed as problems: {missing}"
    resolved_root = (tmp_path / "packs").resolve()
    outside = [p for p in listed if not p.resolve(strict=False).is_relative_to(resolved_root)]
    assert outside == [], "problems only in the hostile packs; the built-in content is clean"
    neutralised = {source.name for source in (HOSTILE / "neutralised").iterdir()}
    assert not [p for p in listed if p.name in neutralised], "safe Markdown loads"


def test_a_damaged_database_gives_one_clear_line_in_the_smoke_test(tmp_path: Path) -> None:
    data = tmp_path / "state"
    data.mkdir()
    (data / "thinktwice.db").write_bytes(b"\x00\x01 not a database " * 400)
    result = subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data), "--smoke-test"],
        cwd=REPO,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    ours = [line for line in result.stderr.splitlines() if line.startswith("thinktwice:")]
    assert len(ours) == 1, result.stderr
    (line,) = ours
    assert str(data / "thinktwice.db") in line
    assert "damaged" in line and "backup" in line
    assert (data / "thinktwice.db").read_bytes().startswith(b"\x00\x01 not a database")
