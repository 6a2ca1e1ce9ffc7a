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
