"""PDF cohort reports and certificates: the text extracted from the file says what it must.

The text is read back with ``pdftotext`` (poppler-utils), an independent reader.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.core.completion import CompletionStatus
from app.services.completion import CompletionRecord
from app.services.manager import ManagerService
from app.ui.fonts import FAMILIES, load_bundled_fonts
from app.ui.pdf_reports import (
    CohortReport,
    certificate_score,
    collect_report,
    export_pdf,
    score_bands,
    write_report_pdf,
)
from tests.ui.manager_support import PASSPHRASE, TRACK, play_track

ZOE = "Zoë Ångström-Łukasz"
WANG = "王小明"

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None,
    reason="pdftotext (Debian package poppler-utils) is not installed; it reads the PDF back",
)


def pdf_pages(data: bytes, tmp_path: Path) -> list[str]:
    """The text of each page, as pdftotext reads it."""
    path = tmp_path / "read.pdf"
    path.write_bytes(data)
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-layout", str(path), "-"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return result.stdout.decode("utf-8").split("\f")[:-1]


def pdf_info(data: bytes, tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "info.pdf"
    path.write_bytes(data)
    result = subprocess.run(
        ["pdfinfo", "-enc", "UTF-8", str(path)], capture_output=True, check=True, timeout=60
    )
    info = {}
    for line in result.stdout.decode("utf-8").splitlines():
        key, _, value = line.partition(":")
        info[key.strip()] = value.strip()
    return info


def test_the_bundled_fonts_load(qapp: Any) -> None:
    assert load_bundled_fonts() == list(FAMILIES)


@pytest.fixture
def manager(context: Any) -> tuple[ManagerService, Any]:
    manager = context.manager
    manager.set_passphrase(PASSPHRASE)
    return manager, manager.unlock(PASSPHRASE, "Auditor")


@needs_poppler
def test_certificates_and_report_print_every_name_track_score_id_and_hash(
    qapp: Any, context: Any, manager: tuple[ManagerService, Any], tmp_path: Path
) -> None:
    service, session = manager
    training, library = context.training, context.library
    for name in (ZOE, WANG):
        play_track(training, training.create_profile(name, team="Platform"), library, right=True)
    play_track(training, training.create_profile("Bob Fails"), library, right=False)
    training.create_profile("Carla Starting")

    out = io.BytesIO()
    count = export_pdf(service, session, out, track=TRACK)
    data = out.getvalue()
    assert count == 4
    certificates = {c.trainee_name: c for c in service.certificates(session)}
    assert set(certificates) == {ZOE, WANG}, "only passed trainees get one"

    pages = pdf_pages(data, tmp_path)
    assert len(pages) == 1 + 1 + 2, "summary, one table page, two certificates"
    summary, table, *certificate_pages = pages
    assert "Starter track" in summary
    assert "4 record(s)" in summary and "2 certificate(s)" in summary
    assert "Passed: 2" in summary and "Failed: 1" in summary and "Not started: 1" in summary
    for name in (ZOE, WANG, "Bob Fails", "Carla Starting"):
        assert name in table
    for certificate in certificates.values():
        assert certificate.certificate_id in table

    by_name = {}
    for page in certificate_pages:
        (name,) = [n for n in (ZOE, WANG) if n in page]
        by_name[name] = page
    for name, certificate in certificates.items():
        page = by_name[name]
        assert "Certificate of completion" in page
        assert "Starter track" in page
        assert certificate_score(certificate.score) in page
        assert certificate.issued_at.date().isoformat() in page
        assert certificate.certificate_id in page
        assert certificate.verification_hash in page
        assert f"thinktwice records verify-certificate {certificate.certificate_id}" in page
        assert service.verify_certificate(
            certificate.certificate_id, certificate.verification_hash
        ).valid

    info = pdf_info(data, tmp_path)
    assert info["Creator"] == "Think Twice"
    assert info["Title"] == "Think Twice report: all trainees"
    assert info["Page size"].startswith("841.89 x 595.276") or "A4" in info["Page size"]


@needs_poppler
def test_a_second_report_prints_the_same_certificates(
    qapp: Any, context: Any, manager: tuple[ManagerService, Any], tmp_path: Path
) -> None:
    service, session = manager
    play_track(context.training, context.training.create_profile(ZOE), context.library, right=True)
    first, second = io.BytesIO(), io.BytesIO()
    export_pdf(service, session, first)
    export_pdf(service, session, second)
    (certificate,) = service.certificates(session)
    assert certificate.certificate_id in pdf_pages(second.getvalue(), tmp_path)[-1]


def test_a_cohort_report_covers_its_members_only(
    qapp: Any, context: Any, manager: tuple[ManagerService, Any]
) -> None:
    service, session = manager
    training, library = context.training, context.library
    member = training.create_profile(ZOE)
    outsider = training.create_profile(WANG)
    for profile in (member, outsider):
        play_track(training, profile, library, right=True)
    service.create_cohort(session, "Room A")
    service.add_members(session, "Room A", [member])
    service.assign_track(session, "Room A", TRACK)
    report = collect_report(service, session, cohort="Room A")
    assert report.cohort == "Room A"
    assert [r.trainee_name for r in report.records] == [ZOE]
    assert [c.trainee_name for c in report.certificates] == [ZOE]


def record(name: str, **changes: Any) -> CompletionRecord:
    base = CompletionRecord(
        trainee_uid=f"uid-{name}",
        trainee_name=name,
        trainee_email_or_id=None,
        trainee_team="Ops",
        trainee_archived=False,
        cohort="Room A",
        track_id=TRACK,
        track_title="Starter track",
        content_hash="0" * 64,
        status=CompletionStatus.IN_PROGRESS,
        items_done=1,
        items_total=3,
        score=0.55,
        over_trust_rate=0.5,
        under_trust_rate=0.0,
        first_started=datetime(2030, 1, 2, tzinfo=UTC),
        completed_at=None,
        seconds_spent=60.0,
        due_at=datetime(2030, 1, 5, tzinfo=UTC),
        overdue=False,
        certificate_id=None,
        last_activity=None,
    )
    return replace(base, **changes)


@needs_poppler
def test_a_long_table_runs_over_pages_with_its_header_on_each(qapp: Any, tmp_path: Path) -> None:
    records = tuple(record(f"Trainee {i:03d}") for i in range(90))
    records = (*records, record("Late Larry", overdue=True))
    report = CohortReport(
        cohort="Room A",
        track_title=None,
        since=None,
        generated_at=datetime(2030, 1, 10, 12, 0, tzinfo=UTC),
        records=records,
        certificates=(),
    )
    out = io.BytesIO()
    pages_written = write_report_pdf(report, out)
    pages = pdf_pages(out.getvalue(), tmp_path)
    assert len(pages) == pages_written >= 4
    table_pages = pages[1:]
    for page in table_pages:
        assert "Completion records" in page and "Over-trust" in page and "Certificate id" in page
    text = "\n".join(table_pages)
    for item in records:
        assert item.trainee_name in text
    assert f"Page {pages_written} of {pages_written}" in pages[-1]
    # An overdue row says so in words, not by its shading alone.
    (late,) = [line for line in text.splitlines() if "Late Larry" in line]
    assert "Overdue" in late
    assert "Generated 2030-01-10 12:00 UTC" in pages[0]


def test_scores_fall_in_their_bands() -> None:
    bands = dict(
        score_bands(
            [
                record("a", score=0.0),
                record("b", score=0.499),
                record("c", score=0.5),
                record("d", score=0.89),
                record("e", score=1.0),
                record("f", score=None),
            ]
        )
    )
    assert bands == {
        "0–49 %": 2,
        "50–59 %": 1,
        "60–69 %": 0,
        "70–79 %": 0,
        "80–89 %": 1,
        "90–100 %": 1,
    }


@needs_poppler
def test_an_empty_report_says_so(qapp: Any, tmp_path: Path) -> None:
    report = CohortReport(None, None, None, datetime(2030, 1, 1, tzinfo=UTC), (), ())
    out = io.BytesIO()
    assert write_report_pdf(report, out) == 2
    pages = pdf_pages(out.getvalue(), tmp_path)
    assert "No records match these filters." in pages[1]
