"""Loading packs into a library: the contract's examples, packs, clashes and isolation."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.content import loader
from app.content.loader import load_library
from app.content.locations import builtin_pack_root
from app.core.model import DEFAULT_ASSISTANT, ContentLibrary, Decision, TrackItem, TrackItemKind

Make = Callable[..., Any]
Load = Callable[..., ContentLibrary]
CONTRACT = Path(__file__).resolve().parents[2] / "data" / "contract"


def test_the_contract_examples_load_as_written() -> None:
    library = load_library([CONTRACT / "supporting"], builtin=CONTRACT / "core")
    assert library.problems == []
    scenario = library.scenarios["forum-acl-grant"]
    assert scenario.pack_id == "core"
    assert scenario.title == "The forum fix that opened the warehouse"
    assert scenario.difficulty == 2
    assert scenario.minutes == 3
    assert scenario.assistant == "Internal forum agent"
    assert scenario.lessons == ("least-privilege",)
    assert scenario.tags == ("data-platform", "acl")
    assert scenario.based_on[0].url == "https://example.org/report"
    step = scenario.step("grant")
    assert step.answer is Decision.REJECT
    assert step.flags == ("access-broadened", "blast-radius", "unverified-premise")
    assert step.decoys == ("hallucinated-reference",)
    assert step.correct_revision_index == 0
    assert step.suggestion.startswith("The agent answers at once:")
    assert "GRANT READ ON NAMESPACE warehouse" in step.suggestion

    flag = library.red_flags["blast-radius"]
    assert (flag.title, flag.question, flag.lesson) == (
        "Blast radius larger than the problem",
        "What else does this touch?",
        "blast-radius",
    )
    lesson = library.lessons["least-privilege"]
    assert (lesson.order, lesson.minutes, lesson.flags) == (3, 5, ("access-broadened",))
    track = library.tracks["new-hire"]
    assert track.pass_mark == 0.8
    assert track.items == (
        TrackItem(TrackItemKind.LESSON, "reading-ai-suggestions"),
        TrackItem(TrackItemKind.SCENARIO, "forum-acl-grant"),
        TrackItem(TrackItemKind.LESSON, "least-privilege"),
    )
    pack = library.packs["contract-supporting"]
    assert (pack.title, pack.version, pack.license) == (
        "What the contract examples refer to",
        "1.0",
        "Apache-2.0",
    )


def test_defaults_of_optional_keys(make_pack: Make, load: Load, samples: Any) -> None:
    front = samples.front("plain").replace("minutes: 3\n", "")
    make_pack().scenario("plain", samples.scenario("plain", front=front))
    scenario = load().scenarios["plain"]
    assert scenario.minutes is None
    assert scenario.assistant == DEFAULT_ASSISTANT
    assert scenario.version == 1
    assert scenario.steps[0].revisions == ()
    assert scenario.steps[0].checks == ()


def test_a_broken_file_does_not_stop_the_rest(make_pack: Make, load: Load, samples: Any) -> None:
    pack = make_pack()
    pack.scenario("broken", "---\nid: broken\ntitle: [unclosed\n---\n")
    pack.scenario("second-good", samples.scenario("second-good"))
    pack.write("lessons/other-broken.md", "no front matter")
    library = load()
    assert set(library.scenarios) == {"sample-scenario", "second-good"}
    assert set(library.lessons) == {"least-privilege"}
    assert set(library.tracks) == {"new-hire"}
    assert sorted(p.path.name for p in library.problems) == ["broken.md", "other-broken.md"]


def test_scenarios_are_found_in_subfolders(make_pack: Make, load: Load, samples: Any) -> None:
    make_pack().write("scenarios/cloud/iam/deep-one.md", samples.scenario("deep-one"))
    assert "deep-one" in load().scenarios


def test_hidden_files_and_other_suffixes_are_ignored(make_pack: Make, load: Load) -> None:
    pack = make_pack()
    pack.write("scenarios/.draft.md", "not content")
    pack.write("scenarios/notes.txt", "not content")
    pack.write("lessons/.swap.md", "not content")
    library = load()
    assert library.problems == []


def test_track_with_yml_suffix_is_reported(make_pack: Make, load: Load) -> None:
    path = make_pack().write("lessons/tracks/other.yml", "id: other\n")
    library = load()
    assert [(p.path, p.message) for p in library.problems] == [
        (path, "this file is ignored; name it 'other.yaml'")
    ]


def test_library_order_is_stable(make_pack: Make, load: Load, samples: Any) -> None:
    pack = make_pack()
    for name in ("zeta", "alpha", "mid"):
        pack.scenario(name, samples.scenario(name))
    assert list(load().scenarios) == ["alpha", "mid", "sample-scenario", "zeta"]


# --- packs ----------------------------------------------------------------------------


def test_builtin_pack_is_core_and_extra_pack_takes_its_folder_name(
    make_pack: Make, load: Load, samples: Any
) -> None:
    make_pack()
    make_pack("team-pack", defaults=False).scenario("team-one", samples.scenario("team-one"))
    library = load("team-pack")
    assert list(library.packs) == ["core", "team-pack"]
    assert library.scenarios["team-one"].pack_id == "team-pack"
    assert library.scenarios["sample-scenario"].pack_id == "core"


def test_pack_yaml_gives_id_and_metadata(make_pack: Make, load: Load) -> None:
    make_pack()
    extra = make_pack("folder", defaults=False)
    extra.write(
        "pack.yaml",
        "id: payments-team\ntitle: Payments incidents\nversion: 2\nauthor: Payments\n"
        "license: CC-BY-4.0\ndescription: Our own incidents.\n",
    )
    pack = load("folder").packs["payments-team"]
    assert pack.root == extra.root
    assert (pack.title, pack.version, pack.author, pack.license, pack.description) == (
        "Payments incidents",
        "2",
        "Payments",
        "CC-BY-4.0",
        "Our own incidents.",
    )


def test_broken_pack_yaml_is_reported_and_the_pack_still_loads(
    make_pack: Make, load: Load, samples: Any
) -> None:
    make_pack()
    extra = make_pack("extra", defaults=False)
    extra.write("pack.yaml", "id: extra\nmaintainer: someone\n")
    extra.scenario("extra-one", samples.scenario("extra-one"))
    library = load("extra")
    assert [p.message for p in library.problems] == [
        "unknown key 'maintainer'; allowed keys: id, title, version, author, license, description"
    ]
    assert "extra-one" in library.scenarios


def test_missing_pack_folder_is_one_problem(make_pack: Make, load: Load, tmp_path: Path) -> None:
    make_pack()
    library = load("nowhere")
    assert [(p.path, p.line) for p in library.problems] == [(tmp_path / "nowhere", None)]
    assert "sample-scenario" in library.scenarios


def test_missing_builtin_folder_is_one_problem(tmp_path: Path) -> None:
    library = load_library(builtin=tmp_path / "missing")
    assert len(library.problems) == 1
    assert library.problems[0].message.startswith("content pack folder not found")


def test_the_same_folder_twice_loads_once(make_pack: Make, load: Load) -> None:
    make_pack()
    library = load("core", "core")
    assert library.problems == []
    assert list(library.packs) == ["core"]


def test_pack_id_clash_skips_the_second_pack(make_pack: Make, load: Load) -> None:
    make_pack()
    extra = make_pack("extra", defaults=False)
    path = extra.write("pack.yaml", "id: core\n")
    library = load("extra")
    assert [(p.path, p.line) for p in library.problems] == [(path, 1)]
    assert "pack id 'core' is already used" in library.problems[0].message


def test_builtin_pack_id_stays_core(make_pack: Make, load: Load) -> None:
    make_pack().write("pack.yaml", "id: something-else\ntitle: Built in\n")
    library = load()
    assert list(library.packs) == ["core"]
    assert library.packs["core"].title == "Built in"
    assert library.problems[0].message.startswith("the built-in pack's id is always 'core'")


def test_default_builtin_root_comes_from_locations(
    make_pack: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    pack = make_pack()
    monkeypatch.setattr(loader, "builtin_pack_root", lambda: pack.root)
    library = load_library()
    assert "sample-scenario" in library.scenarios


# --- clashes across packs -------------------------------------------------------------


@pytest.mark.parametrize(
    ("relative", "kind"),
    [
        ("scenarios/sample-scenario.md", "scenario"),
        ("lessons/least-privilege.md", "lesson"),
        ("lessons/tracks/new-hire.yaml", "track"),
    ],
)
def test_duplicate_ids_across_packs_name_both_files(
    make_pack: Make, load: Load, relative: str, kind: str
) -> None:
    core = make_pack()
    extra = make_pack("extra", defaults=False)
    second = extra.write(relative, (core.root / relative).read_text(encoding="utf-8"))
    library = load("extra")
    assert len(library.problems) == 1
    problem = library.problems[0]
    assert problem.path == second
    assert problem.line == (1 if kind == "track" else 2)
    assert problem.message.startswith(f"{kind} id '")
    assert str(core.root / relative) in problem.message
    assert "unique across all loaded packs" in problem.message


def test_duplicate_scenario_ids_in_subfolders_of_one_pack(
    make_pack: Make, load: Load, samples: Any
) -> None:
    pack = make_pack()
    pack.write("scenarios/a/twin.md", samples.scenario("twin"))
    second = pack.write("scenarios/b/twin.md", samples.scenario("twin"))
    library = load()
    assert [p.path for p in library.problems] == [second]
    assert library.scenarios["twin"].path == pack.root / "scenarios/a/twin.md"


def test_a_pack_may_not_redefine_a_flag(make_pack: Make, load: Load) -> None:
    core = make_pack()
    extra = make_pack("extra", defaults=False)
    path = extra.write(
        "scenarios/red-flags.yaml",
        "- id: new-flag\n  title: New\n  question: New?\n"
        "- id: blast-radius\n  title: Mine now\n  question: Q?\n",
    )
    library = load("extra")
    assert [(p.path, p.line) for p in library.problems] == [(path, 4)]
    assert library.problems[0].message == (
        f"red flag 'blast-radius' is already defined in {core.root / 'scenarios/red-flags.yaml'}; "
        "a pack may add red flags but not redefine one"
    )
    assert library.red_flags["blast-radius"].title == "Blast radius larger than the problem"
    assert library.red_flags["new-flag"].pack_id == "extra"


def test_a_pack_may_use_flags_and_lessons_of_another(
    make_pack: Make, load: Load, samples: Any
) -> None:
    make_pack()
    make_pack("extra", defaults=False).scenario("uses-core", samples.scenario("uses-core"))
    assert "uses-core" in load("extra").scenarios


# --- locations ------------------------------------------------------------------------


def test_builtin_root_from_source_is_the_repository() -> None:
    root = builtin_pack_root()
    assert (root / "app" / "content" / "locations.py").is_file()


def test_builtin_root_when_frozen_is_the_bundle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert builtin_pack_root() == tmp_path


def test_the_example_in_the_format_documentation_loads(make_pack: Make, load: Load) -> None:
    document = Path(__file__).resolve().parents[3] / "docs" / "content-format.md"
    text = document.read_text(encoding="utf-8")
    example = text.split("````markdown\n", 1)[1].split("\n````", 1)[0] + "\n"
    pack = make_pack(defaults=False)
    pack.write(
        "scenarios/red-flags.yaml",
        "".join(
            f"- id: {flag}\n  title: {flag}\n  question: Q?\n"
            for flag in (
                "access-broadened",
                "blast-radius",
                "hallucinated-reference",
                "data-exposure",
            )
        ),
    )
    pack.write(
        "lessons/least-privilege.md", "---\nid: least-privilege\ntitle: T\nsummary: S\n---\n"
    )
    pack.scenario("payments-report-bucket-grant", example)
    library = load()
    assert library.problems == []
    scenario = library.scenarios["payments-report-bucket-grant"]
    assert [step.answer for step in scenario.steps] == [Decision.REJECT, Decision.ACCEPT]
    assert scenario.steps[0].checks[0].minutes == 1
    assert scenario.step("prefix-only").suggestion.startswith("The assistant comes back")
