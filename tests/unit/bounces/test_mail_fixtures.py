"""Every fixture message gives the findings its row in expected.json says, in any line ending."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mailwarden.events.mail.analyse import analyse
from mailwarden.events.mail.records import Finding

MAIL_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "mail"
EXPECTED: dict[str, list[dict[str, Any]]] = json.loads(
    (MAIL_DIR / "expected.json").read_text(encoding="utf-8")
)
FIXTURES = sorted(str(p.relative_to(MAIL_DIR)) for p in MAIL_DIR.rglob("*.eml"))
BOUNCE_FOLDERS = {
    "dsn", "postfix", "exim", "sendmail", "qmail", "exchange", "gmail", "yahoo", "ses",
    "courier", "domino", "gmx", "mailru", "mimecast",
}  # fmt: skip


def _row(finding: Finding) -> dict[str, Any]:
    return {
        "recipient": finding.recipient,
        "kind": finding.kind,
        "action": finding.action,
        "status": finding.status,
        "class": finding.bounce_class,
        "reason": finding.reason,
        "feedback_type": finding.feedback_type,
    }


def _endings(data: bytes, ending: bytes) -> bytes:
    lf = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return lf.replace(b"\n", ending)


def test_the_corpus_is_large_and_every_fixture_has_an_expected_row() -> None:
    assert len(FIXTURES) >= 70
    assert sorted(EXPECTED) == FIXTURES


def test_the_corpus_holds_every_line_ending_natively() -> None:
    raw = [(MAIL_DIR / name).read_bytes() for name in FIXTURES]
    assert sum(b"\r\n" in data for data in raw) >= 5
    assert sum(b"\r" in data and b"\n" not in data for data in raw) >= 3
    assert sum(b"\n" in data and b"\r" not in data for data in raw) >= 60


def test_the_corpus_has_multi_recipient_reports_and_ten_non_bounces() -> None:
    assert sum(len(rows) > 1 for rows in EXPECTED.values()) >= 5
    quiet = [n for n, rows in EXPECTED.items() if rows[0]["kind"] in {"autoreply", "not-a-bounce"}]
    assert len(quiet) >= 10


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_gives_its_expected_findings(name: str) -> None:
    analysis = analyse((MAIL_DIR / name).read_bytes())
    assert [_row(f) for f in analysis.findings] == EXPECTED[name]


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_reads_the_same_in_every_line_ending(name: str, ending: bytes) -> None:
    data = _endings((MAIL_DIR / name).read_bytes(), ending)
    assert [_row(f) for f in analyse(data).findings] == EXPECTED[name]


@pytest.mark.parametrize("name", [n for n in FIXTURES if n.split("/")[0] in BOUNCE_FOLDERS])
def test_bounce_fixtures_are_bounces_or_deliveries(name: str) -> None:
    kinds = {row["kind"] for row in EXPECTED[name]}
    assert kinds <= {"bounce", "delivered", "complaint"}


@pytest.mark.parametrize(
    "name", [n for n in FIXTURES if n.startswith(("autoreply/", "notbounce/"))]
)
def test_auto_replies_and_ordinary_mail_are_never_bounces(name: str) -> None:
    kinds = {f.kind for f in analyse((MAIL_DIR / name).read_bytes()).findings}
    assert kinds <= {"autoreply", "not-a-bounce"}


def test_no_sender_level_refusal_in_the_corpus_is_hard() -> None:
    sender_level = {"blocked", "spamdetected", "authfailure", "speeding", "norelaying", "rejected"}
    for name, rows in EXPECTED.items():
        for row in rows:
            if row["reason"] in sender_level:
                assert row["class"] == "block", name
