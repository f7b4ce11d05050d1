"""Write N synthetic scenarios in the content format, as a pack for benchmarks.

Usage: python bench/make_scenarios.py N OUT_DIR [--seed S]

The scenarios are valid against the built-in red-flag catalogue, vary in steps,
answers and length like the real library, and are deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from app.core.stats import CORE_FLAG_IDS, DOMAIN_TAGS

# The generated scenarios use the built-in catalogue and domains, so they validate.
FLAGS = list(CORE_FLAG_IDS)
DOMAINS = list(DOMAIN_TAGS)
PARAGRAPH = (
    "The on-call engineer at a fictional logistics company sees `PERMISSION_DENIED` in the "
    "nightly export job and asks the assistant for the fastest safe fix before the 06:00 "
    "report run. The job reads one table and writes one bucket."
)


def _step(rng: random.Random, step_id: str) -> tuple[str, list[str]]:
    answer = rng.choices(["reject", "revise", "accept"], weights=[40, 25, 35])[0]
    shuffled = rng.sample(FLAGS, k=5)
    flags = [] if answer == "accept" else shuffled[: rng.randint(1, 3)]
    decoys = shuffled[3:5]
    lines = [
        f"  - id: {step_id}",
        f"    answer: {answer}",
        f"    flags: [{', '.join(flags)}]",
        f"    decoys: [{', '.join(d for d in decoys if d not in flags)}]",
    ]
    if answer == "revise":
        lines += [
            "    revisions:",
            '      - text: "Grant `SELECT` on the one table to the job\'s service account"',
            "        correct: true",
            '      - text: "Grant `READ` on the whole namespace"',
            '      - text: "Disable the permission check for the job"',
        ]
    return answer, lines


def scenario_text(rng: random.Random, number: int) -> str:
    """One synthetic scenario file's text."""
    scenario_id = f"synthetic-{number:05d}"
    step_count = 2 if rng.random() < 0.15 else 1
    step_ids = [f"step-{i + 1}" for i in range(step_count)]
    front = [
        "---",
        f"id: {scenario_id}",
        f"title: Synthetic scenario {number}",
        "summary: A generated scenario used to measure loading speed.",
        f"difficulty: {rng.randint(1, 3)}",
        f"minutes: {rng.randint(2, 5)}",
        "assistant: Benchmark assistant",
        f"tags: [{rng.choice(DOMAINS)}, synthetic]",
        "based_on:",
        "  - title: Generated for benchmarks",
        "steps:",
    ]
    body = ["", "## Situation", "", PARAGRAPH, ""]
    for step_id in step_ids:
        answer, lines = _step(rng, step_id)
        front += lines
        suffix = f" ({step_id})" if step_count > 1 else ""
        body += [
            f"## Suggestion{suffix}",
            "",
            "Run this:",
            "",
            "```bash",
            "gcloud projects add-iam-policy-binding acme-prod \\",
            "  --member=group:eng-all@example.com --role=roles/viewer",
            "```",
            "",
            f"## If accepted{suffix}",
            "",
            PARAGRAPH,
            "",
            f"## If rejected{suffix}",
            "",
            PARAGRAPH,
            "",
        ]
        if answer == "revise":
            body += [f"## If revised{suffix}", "", PARAGRAPH, ""]
    body += ["## Debrief", "", PARAGRAPH, ""]
    return "\n".join([*front, "---", *body])


def write_pack(count: int, out: Path, seed: int = 7) -> Path:
    """Write ``count`` scenarios into the pack folder ``out``; returns the folder."""
    rng = random.Random(seed)
    folder = out / "scenarios"
    folder.mkdir(parents=True, exist_ok=True)
    (out / "pack.yaml").write_text(
        "id: synthetic\ntitle: Synthetic benchmark pack\nversion: '1'\n", encoding="utf-8"
    )
    for number in range(count):
        path = folder / f"synthetic-{number:05d}.md"
        path.write_text(scenario_text(rng, number), encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    write_pack(args.count, args.out, args.seed)
    print(f"wrote {args.count} scenarios to {args.out}")


if __name__ == "__main__":
    main()
