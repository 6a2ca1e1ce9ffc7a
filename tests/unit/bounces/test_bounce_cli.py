"""`mailwarden bounce`: files, directories and mbox in; one NDJSON object per recipient out."""

from __future__ import annotations

import mailbox
import shutil
from pathlib import Path
from typing import Any

import orjson
from typer.testing import CliRunner

from mailwarden.cli.main import app

MAIL_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "mail"
KEYS = {
    "file", "recipient", "action", "status", "reply_code", "reason", "class", "kind",
    "feedback_type", "diagnostic",
}  # fmt: skip
RUNNER = CliRunner()


def _rows(output: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in output.splitlines() if line.strip()]


def _copy(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "mail"
    folder.mkdir()
    for name in names:
        shutil.copy(MAIL_DIR / name, folder / name.replace("/", "-"))
    return folder


def test_json_gives_one_object_per_recipient_with_the_documented_keys(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "dsn/multi-recipient.eml", "arf/abuse-basic.eml")
    result = RUNNER.invoke(app, ["bounce", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    assert all(set(row) == KEYS for row in rows)
    assert [(r["recipient"], r["kind"]) for r in rows] == [
        ("olga@mailbox.example.net", "complaint"),
        ("Bob.Stone@example.net", "bounce"),
        ("carol@example.net", "bounce"),
        ("dave@example.net", "delivered"),
    ]
    assert rows[1]["class"] == "hard"
    assert rows[1]["reply_code"] == 550
    assert rows[0]["feedback_type"] == "abuse"


def test_a_message_that_is_not_a_bounce_gives_one_object_saying_so(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "notbounce/ordinary.eml", "autoreply/x-autoreply.eml")
    rows = _rows(RUNNER.invoke(app, ["bounce", str(folder), "--json"]).stdout)
    assert sorted(row["kind"] for row in rows) == ["autoreply", "not-a-bounce"]


def test_an_unreadable_file_gives_an_error_object_and_exit_1_but_the_run_goes_on(
    tmp_path: Path,
) -> None:
    folder = _copy(tmp_path, "qmail/no-mailbox.eml")
    (folder / "zz-garbage.eml").write_bytes(b"\x00\x01 not mail at all")
    missing = tmp_path / "missing.eml"
    result = RUNNER.invoke(app, ["bounce", str(folder), str(missing), "--json"])
    assert result.exit_code == 1
    rows = _rows(result.stdout)
    assert rows[0]["recipient"] == "rick@example.org"
    errors = [row for row in rows if "error" in row]
    assert [Path(row["file"]).name for row in errors] == ["zz-garbage.eml", "missing.eml"]
    assert all(set(row) == {"file", "error"} for row in errors)


def test_an_mbox_is_split_into_its_messages(tmp_path: Path) -> None:
    path = tmp_path / "bounces.mbox"
    box = mailbox.mbox(path)
    for name in ("qmail/no-mailbox.eml", "exim/userunknown.eml"):
        box.add((MAIL_DIR / name).read_bytes())
    box.flush()
    box.close()
    rows = _rows(RUNNER.invoke(app, ["bounce", str(path), "--json"]).stdout)
    assert [(row["file"].rsplit("#", 1)[1], row["recipient"]) for row in rows] == [
        ("1", "rick@example.org"),
        ("2", "gina@example.net"),
    ]


def test_without_json_a_table_is_printed(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "postfix/spamhaus.eml")
    result = RUNNER.invoke(app, ["bounce", str(folder)])
    assert result.exit_code == 0
    assert "mia@example.org" in result.stdout
    assert "blocked" in result.stdout
