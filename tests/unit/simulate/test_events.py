"""The simulated lines are canonical events in arrival order, with realistic shapes and timing."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import datetime

import orjson
import pytest
from tests.unit.simulate.stats import (
    RecordingSink,
    Run,
    occurred,
    one_send,
    received,
    simulate,
)

from mailwarden.events.bounces import classify
from mailwarden.events.mailboxes import mailbox_provider
from mailwarden.events.model import parse_time
from mailwarden.events.providers.ndjson import event_from_json
from mailwarden.simulate.model import (
    MARKETING_DOMAIN,
    SENDING_IPS,
    TRANSACTIONAL_DOMAIN,
    Rates,
)
from mailwarden.simulate.outcomes import Fates
from mailwarden.simulate.replies import all_replies


@pytest.fixture(scope="module")
def run() -> Run:
    return simulate("mixed", days=7, scale=0.02)


def seconds(text: str) -> float:
    return parse_time(text).timestamp()


def test_every_line_parses_as_a_canonical_event_and_writes_back_the_same(run: Run) -> None:
    for line in run.data.splitlines():
        event = event_from_json(line)
        assert event.to_dict() == orjson.loads(line)
        assert event.provider == "sendgrid"


def test_lines_are_in_arrival_order_and_late_complaints_carry_their_true_time(run: Run) -> None:
    arrivals = [received(row) for row in orjson_rows(run)]
    assert arrivals == sorted(arrivals)
    latest = ""
    late_complaints = 0
    for row in orjson_rows(run):
        if row["type"] == "complained" and occurred(row) < latest:
            late_complaints += 1
        latest = max(latest, occurred(row))
    assert late_complaints > 0
    assert all(occurred(row) <= received(row) for row in run.rows)


def orjson_rows(run: Run) -> list[dict[str, object]]:
    """Every line, re-deliveries included."""
    return [orjson.loads(line) for line in run.data.splitlines()]


def test_every_event_lies_in_the_window(run: Run) -> None:
    start, end = run.truth["start"], run.truth["end"]
    assert all(start <= received(row) < end for row in run.rows)
    assert run.truth["events"] == len(run.data.splitlines())


def test_email_events_name_campaign_domain_ip_and_provider(run: Run) -> None:
    for row in run.rows:
        assert row["campaign"]
        assert row["message_id"]
        assert row["sending_domain"] in (MARKETING_DOMAIN, TRANSACTIONAL_DOMAIN)
        assert row["sending_ip"] in SENDING_IPS
        assert row["mailbox_provider"] == mailbox_provider(row["recipient"])


def test_ids_are_unique_except_webhook_redeliveries_of_the_same_event(run: Run) -> None:
    lines = orjson_rows(run)
    by_id: dict[object, list[dict[str, object]]] = defaultdict(list)
    for row in lines:
        by_id[row["id"]].append(row)
    repeats = [rows for rows in by_id.values() if len(rows) > 1]
    assert 0 < len(repeats) < 0.01 * len(by_id)
    for first, *others in repeats:
        for other in others:
            assert {**other, "extra": None} == {**first, "extra": None}
            assert received(other) >= received(first)  # type: ignore[arg-type]


def test_bounces_carry_what_the_classifier_reads_from_them(run: Run) -> None:
    seen = Counter()
    for row in run.rows:
        bounce = row["bounce"]
        if row["type"] == "dropped":
            assert (bounce["class"], bounce["reason"]) == ("hard", "suppressed")
        elif row["type"] in ("bounced", "deferred"):
            verdict = classify(bounce["smtp_code"], bounce["status"], bounce["diagnostic"])
            assert (verdict.bounce_class, verdict.reason) == (bounce["class"], bounce["reason"])
            seen[row["type"], bounce["class"]] += 1
        else:
            assert bounce is None
    assert {("bounced", "hard"), ("bounced", "block"), ("deferred", "soft")} <= set(seen)


@pytest.mark.parametrize("reply", all_replies(), ids=lambda reply: reply.text[:30])
def test_catalogue_replies_classify_as_labelled(reply: object) -> None:
    from mailwarden.simulate.replies import Reply

    assert isinstance(reply, Reply)
    text = reply.text.format(ip="203.0.113.7", domain=MARKETING_DOMAIN)
    verdict = classify(reply.smtp_code, reply.status, text)
    assert (verdict.bounce_class, verdict.reason) == (reply.bounce_class, reply.reason)


def test_deliveries_come_minutes_after_the_send(run: Run) -> None:
    queued = {
        row["message_id"]: seconds(row["occurred_at"])
        for row in run.rows
        if row["type"] == "queued"
    }
    delays = [
        seconds(row["occurred_at"]) - queued[row["message_id"]]
        for row in run.rows
        if row["type"] == "delivered" and row["message_id"] in queued
    ]
    assert 30 < statistics.median(delays) < 300


def test_deferred_mail_is_retried_and_mostly_delivered_later(run: Run) -> None:
    finals = {
        row["message_id"]: row["type"]
        for row in run.rows
        if row["type"] in ("delivered", "bounced")
    }
    deferred = {row["message_id"] for row in run.rows if row["type"] == "deferred"}
    outcomes = Counter(finals.get(mid, "pending") for mid in deferred)
    assert outcomes["delivered"] > 0.6 * len(deferred)
    assert outcomes["bounced"] > 0
    attempts = [row["extra"]["attempt"] for row in run.rows if row["type"] == "deferred"]
    assert 2 < max(attempts) <= 6
    last_deferral: dict[str, str] = {}
    for row in run.rows:
        if row["type"] == "deferred":
            last_deferral[row["message_id"]] = max(
                row["occurred_at"], last_deferral.get(row["message_id"], "")
            )
    for row in run.rows:
        if row["type"] in ("bounced", "delivered") and row["message_id"] in last_deferral:
            assert row["occurred_at"] > last_deferral[row["message_id"]]


def test_apple_recipients_open_by_machine_at_once_and_others_later(run: Run) -> None:
    delivered = {row["message_id"]: row for row in run.rows if row["type"] == "delivered"}
    apple_delays, human_delays = [], []
    for row in run.rows:
        if row["type"] != "opened" or row["message_id"] not in delivered:
            continue
        delay = seconds(row["occurred_at"]) - seconds(delivered[row["message_id"]]["occurred_at"])
        machine = row["extra"]["machine_open"]
        assert machine == (row["mailbox_provider"] == "apple")
        (apple_delays if machine else human_delays).append(delay)
    assert statistics.median(apple_delays) < 600 < statistics.median(human_delays)
    apple_delivered = sum(1 for row in delivered.values() if row["mailbox_provider"] == "apple")
    assert 0.6 < len(apple_delays) / apple_delivered < 0.95


def test_complaints_arrive_hours_to_two_days_later_mostly_within_a_day() -> None:
    sink = RecordingSink()
    fates = Fates(sink, [])
    rates = Rates(0, 0, 0, 0, complaint=1.0, unsub=0, open=0, click=0, apple_open=0)
    for number in range(2_000):
        fates.process(one_send(rates, provider="other", seed=number))
    delivered = {send.message_id: at for send, kind, at, _ in sink.events if kind == "delivered"}
    complaints = [
        (send, at, arrival) for send, kind, at, arrival in sink.events if kind == "complained"
    ]
    delays = [at - delivered[send.message_id] for send, at, _ in complaints]
    assert len(delays) == 2_000
    assert min(delays) >= 600
    assert max(delays) <= 2 * 86_400
    assert 0.6 < sum(delay < 86_400 for delay in delays) / len(delays) < 0.8
    lags = [arrival - at for _, at, arrival in complaints]
    assert min(lags) >= 60
    assert statistics.median(lags) < 1_800


def test_recipients_follow_the_mailbox_provider_mix(run: Run) -> None:
    sends = Counter(row["mailbox_provider"] for row in run.rows if row["type"] == "queued")
    total = sum(sends.values())
    targets = {"gmail": 0.45, "microsoft": 0.20, "yahoo": 0.12, "apple": 0.10, "other": 0.13}
    for provider, share in targets.items():
        assert sends[provider] / total == pytest.approx(share, abs=0.03)


def test_volume_follows_working_hours_and_weekdays(run: Run) -> None:
    sends = [parse_time(row["occurred_at"]) for row in run.rows if row["type"] == "queued"]
    by_hour = Counter(when.hour for when in sends)
    by_day = Counter(when.weekday() for when in sends)
    working = sum(by_hour[hour] for hour in range(8, 18))
    night = sum(by_hour[hour] for hour in (0, 1, 2, 4, 5))
    assert working > 20 * max(1, night)
    assert min(by_day[day] for day in range(5)) > max(by_day[5], by_day[6])


def test_campaigns_are_named_by_date_and_vary_in_size(run: Run) -> None:
    sends = Counter(
        row["campaign"]
        for row in run.rows
        if row["type"] == "queued" and row["sending_domain"] == MARKETING_DOMAIN
    )
    dated = {name: count for name, count in sends.items() if name.count("-") == 4}
    assert len(dated) >= 10
    for name in dated:
        datetime.strptime(name.split("-", 1)[1][:10], "%Y-%m-%d")
    assert max(dated.values()) > 8 * min(dated.values())
