"""Engagement by cohort: a delivery engages if a person opens or clicks it within the lag."""

from __future__ import annotations

from datetime import timedelta

from tests.unit.detect.factory import T0, event

from mailwarden.metrics.cohorts import CohortBook

KEY = ("mailbox_provider", "gmail")
BASE = int(T0.timestamp()) // 60


def _deliver_and_open(book: CohortBook, opened_after: int, **extra: object) -> None:
    book.add([event("delivered", T0, message="m-1")])
    book.add([event("opened", T0 + timedelta(minutes=opened_after), message="m-1", **extra)])


def test_a_cohort_counts_only_after_it_has_matured() -> None:
    book = CohortBook(lag_minutes=60)
    _deliver_and_open(book, 5)
    book.mature(BASE + 30)
    assert KEY not in book.keys
    book.mature(BASE + 61)
    assert book.keys[KEY].sums[60] == [1, 1]


def test_opens_after_the_lag_do_not_count() -> None:
    book = CohortBook(lag_minutes=60)
    _deliver_and_open(book, 90)
    book.mature(BASE + 200)
    assert book.keys[KEY].sums[240] == [1, 0]


def test_apple_machine_opens_are_not_engagement() -> None:
    book = CohortBook(lag_minutes=60)
    _deliver_and_open(book, 1, machine_open=True)
    book.mature(BASE + 61)
    assert book.keys[KEY].sums[60] == [1, 0]


def test_a_message_engages_once_however_often_it_is_opened() -> None:
    book = CohortBook(lag_minutes=60)
    _deliver_and_open(book, 2)
    book.add([event("clicked", T0 + timedelta(minutes=3), message="m-1")])
    book.mature(BASE + 61)
    assert book.keys[KEY].sums[60] == [1, 1]
    assert book.keys[("sending_domain:mailbox_provider", "news.example.org:gmail")]


def test_an_open_reported_after_its_cohort_matured_leaves_the_cohort_as_judged() -> None:
    book = CohortBook(lag_minutes=60)
    book.add([event("delivered", T0, message="m-1"), event("delivered", T0, message="m-2")])
    book.mature(BASE + 62)
    book.add([event("opened", T0 + timedelta(minutes=30), message="m-1")])
    book.mature(BASE + 63)
    assert book.keys[KEY].sums[60] == [2, 0]


def test_matured_deliveries_are_forgotten_by_the_hourly_prune() -> None:
    book = CohortBook(lag_minutes=60)
    book.add([event("delivered", T0, message=f"m-{n}") for n in range(50)])
    book.add([event("delivered", T0 + timedelta(minutes=90), message="m-late")])
    book.mature(BASE + 120)
    assert book.waiting() == 51
    book.prune(BASE + 120)
    assert book.waiting() == 1  # the one delivered 30 minutes ago may still be opened


def test_a_delivery_reported_late_is_forgotten_once_those_before_it_have_expired() -> None:
    book = CohortBook(lag_minutes=60)
    book.add([event("delivered", T0, message="m-early")])
    book.add([event("delivered", T0 + timedelta(minutes=50), message="m-recent")])
    book.add([event("delivered", T0 + timedelta(minutes=1), message="m-straggler")])
    book.mature(BASE + 100)
    book.prune(BASE + 100)
    assert book.waiting() == 2  # the straggler waits behind a delivery still in play
    book.mature(BASE + 200)
    book.prune(BASE + 200)
    assert book.waiting() == 0


def test_a_delivery_reported_after_its_cohort_matured_is_left_out_with_its_opens() -> None:
    book = CohortBook(lag_minutes=60)
    book.add([event("delivered", T0, message="m-1")])
    book.mature(BASE + 62)
    book.add([event("delivered", T0, message="m-2")])  # a webhook backlog, hours late
    book.add([event("opened", T0 + timedelta(minutes=5), message="m-2")])
    book.mature(BASE + 63)
    assert book.keys[KEY].sums[60] == [1, 0]
