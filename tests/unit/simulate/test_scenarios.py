"""Each scenario shows its anomaly in the data inside its truth window, and not outside it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from tests.unit.simulate.stats import (
    T0,
    Row,
    Run,
    between,
    complaint_rate,
    delivered_at,
    observe,
    occurred,
    plausibly_above,
    plausibly_below,
    received,
    sent_at,
    simulate,
)

from mailwarden.events.model import parse_time
from mailwarden.simulate.model import DAY, iso


def window(run: Run) -> tuple[str, str]:
    incident = run.incident()
    return incident["start"], incident["end"]


def scope_key(run: Run, dimension: str) -> str:
    keys = [s["key"] for s in run.incident()["scopes"] if s["dimension"] == dimension]
    return keys[0]


def where(*tests: Callable[[Row], bool]) -> Callable[[Row], bool]:
    return lambda row: all(test(row) for test in tests)


def is_(field: str, value: object) -> Callable[[Row], bool]:
    return lambda row: row[field] == value


def outside(low: str, high: str) -> Callable[[Row], bool]:
    return lambda row: not low <= occurred(row) < high


def test_bad_list_import_hard_bounces_one_campaign_mostly_at_gmail_and_yahoo() -> None:
    run = simulate("bad_list_import", scale=0.03)
    campaign = scope_key(run, "campaign")
    start, end = window(run)
    stale = observe(run.rows, is_("campaign", campaign))
    assert stale.counts["queued"] > 500
    assert 0.06 < stale.hard < 0.14
    for provider in ("gmail", "yahoo"):
        at = observe(run.rows, where(is_("campaign", campaign), is_("mailbox_provider", provider)))
        assert at.hard > 0.08
    rest = observe(run.rows, lambda row: row["campaign"] != campaign)
    assert rest.hard < 0.009
    hard = [
        r
        for r in run.rows
        if r["campaign"] == campaign and r["type"] == "bounced" and r["bounce"]["class"] == "hard"
    ]
    assert all(start <= occurred(row) < end for row in hard)


def test_complaint_spike_makes_one_campaign_draw_complaints_within_hours() -> None:
    thursday = T0 + 3 * DAY  # the day's biggest campaign is then the weekly flagship
    run = simulate("complaint_spike", days=1, scale=0.03, start=thursday)
    campaign = scope_key(run, "campaign")
    start, end = window(run)
    counts: Counter[tuple[bool, str]] = Counter()
    spiked_arrivals = []
    for row in run.rows:
        ours = row["campaign"] == campaign
        counts[ours, row["type"]] += 1
        if ours and row["type"] == "complained":
            spiked_arrivals.append(received(row))
    assert counts[True, "delivered"] > 1_000
    assert plausibly_above(counts[True, "complained"], counts[True, "delivered"], 0.005)
    assert plausibly_below(counts[False, "complained"], counts[False, "delivered"], 0.0008)
    inside = sum(start <= at < end for at in spiked_arrivals)
    assert inside > 0.9 * len(spiked_arrivals)


def test_gmail_auth_block_refuses_gmail_mail_of_one_domain_inside_the_window_only() -> None:
    run = simulate("gmail_auth_block", scale=0.03)
    start, end = window(run)
    domain = scope_key(run, "sending_domain")
    inside = between(start, end, occurred)
    gmail = where(is_("mailbox_provider", "gmail"), is_("sending_domain", domain))
    during = observe(run.rows, where(gmail, inside))
    assert during.counts["queued"] > 200
    assert during.block > 0.8
    assert observe(run.rows, where(gmail, outside(start, end))).block < 0.01
    elsewhere = observe(run.rows, where(inside, lambda r: r["mailbox_provider"] != "gmail"))
    assert elsewhere.block < 0.01
    auth = [r for r in run.rows if r["bounce"] and r["bounce"]["reason"] == "authfailure"]
    assert all(
        r["bounce"]["status"] == "5.7.26" and domain in r["bounce"]["diagnostic"] for r in auth
    )
    assert all(start <= occurred(r) < end for r in auth)


def test_microsoft_throttling_defers_microsoft_mail_for_hours_then_delivers_it() -> None:
    run = simulate("microsoft_throttling", scale=0.03)
    start, end = window(run)
    inside = between(start, end, occurred)
    microsoft = is_("mailbox_provider", "microsoft")
    assert observe(run.rows, where(microsoft, inside)).deferral > 0.6
    ahead = iso(int(parse_time(start).timestamp()) - 3_600)
    sent = sent_at(r for r in run.rows if microsoft(r))
    calm = {mid for mid, at in sent.items() if not ahead <= at < end}
    deferred_calm = {r["message_id"] for r in run.rows if r["type"] == "deferred"} & calm
    assert plausibly_below(len(deferred_calm), len(calm), 0.04)
    others = observe(run.rows, where(inside, lambda r: r["mailbox_provider"] != "microsoft"))
    assert plausibly_below(others.counts["deferred"], others.counts["queued"], 0.05)
    deferred = {r["message_id"] for r in run.rows if r["type"] == "deferred" and microsoft(r)}
    delivered = delivered_at(run.rows)
    later = [delivered[mid] for mid in deferred if mid in delivered]
    assert len(later) > 0.8 * len(deferred)
    assert sum(at >= end for at in later) > 0.5 * len(later)
    codes = Counter(
        r["bounce"]["status"]
        for r in run.rows
        if r["type"] == "deferred" and inside(r) and microsoft(r)
    )
    assert codes["4.7.500"] > codes["4.7.0"] > 0


def test_ip_blocklisted_blocks_only_the_listed_ip_citing_spamhaus() -> None:
    run = simulate("ip_blocklisted", scale=0.03)
    start, end = window(run)
    ip = scope_key(run, "sending_ip")
    inside = between(start, end, occurred)
    listed = is_("sending_ip", ip)
    during = observe(run.rows, where(listed, inside))
    assert during.counts["queued"] > 200
    assert during.block > 0.3
    assert observe(run.rows, where(listed, outside(start, end))).block < 0.01
    assert observe(run.rows, where(inside, lambda r: r["sending_ip"] != ip)).block < 0.01
    blocked = [r for r in run.rows if r["type"] == "bounced" and listed(r) and inside(r)]
    cited = [r for r in blocked if r["bounce"]["reason"] == "blocked"]
    assert len(cited) > 0.9 * len(blocked)
    assert all(ip in r["bounce"]["diagnostic"] for r in cited)
    spamhaus = [r for r in cited if "spamhaus" in r["bounce"]["diagnostic"].lower()]
    assert len(spamhaus) > 0.6 * len(cited)
    assert not any(r["mailbox_provider"] == "gmail" for r in cited)


def test_night_volume_surge_sends_five_times_the_usual_night_volume_from_a_new_campaign() -> None:
    run = simulate("night_volume_surge", scale=0.04)
    start, end = window(run)
    sends = [r for r in run.rows if r["type"] == "queued"]
    in_window = [r for r in sends if start <= occurred(r) < end]
    same_hours_other_days = [
        r
        for r in sends
        if start[11:16] <= occurred(r)[11:16] < end[11:16] and start[:10] != occurred(r)[:10]
    ]
    usual = len(same_hours_other_days) / 6
    assert len(in_window) > 5 * max(usual, 1)
    surge = Counter(r["campaign"] for r in in_window).most_common(1)[0][0]
    assert surge == scope_key(run, "campaign")
    assert all(start <= occurred(r) < end for r in sends if r["campaign"] == surge)
    assert parse_time(start).hour in (2, 3)
    attack = observe(run.rows, is_("campaign", surge))
    assert plausibly_above(attack.counts["bounced:hard"], attack.counts["queued"], 0.035)


def test_webhook_silence_stops_every_event_but_queued_for_the_window() -> None:
    seen_modes = set()
    for seed in range(1, 8):
        run = simulate("webhook_silence", seed=seed, days=3, scale=0.01)
        start, end = window(run)
        arriving = [r for r in run.rows if start <= received(r) < end]
        assert arriving
        assert all(r["type"] == "queued" for r in arriving)
        late = [r for r in run.rows if start <= occurred(r) < end and r["type"] != "queued"]
        backlog = "backlog" in run.incident()["notes"]
        seen_modes.add(backlog)
        if backlog:
            assert len(late) > 0.5 * len(arriving)
            assert all(received(r) >= end for r in late)
        else:
            assert len(late) < 0.05 * len(arriving)
        if len(seen_modes) == 2:
            return
    raise AssertionError("expected both a backlog and a lost-events run in seven seeds")


def test_engagement_collapse_cuts_yahoo_opens_while_deliveries_hold() -> None:
    run = simulate("engagement_collapse", scale=0.03)
    start, _ = window(run)
    delivered = delivered_at(run.rows)
    opened = {r["message_id"] for r in run.rows if r["type"] == "opened"}

    def open_rate(provider: str, after: bool) -> float:
        mids = [
            r["message_id"]
            for r in run.rows
            if r["type"] == "delivered"
            and r["mailbox_provider"] == provider
            and r["sending_domain"] == "news.example.org"
            and (delivered[r["message_id"]] >= start) == after
        ]
        return sum(mid in opened for mid in mids) / len(mids)

    yahoo_drop = open_rate("yahoo", after=True) / open_rate("yahoo", after=False)
    gmail_drop = open_rate("gmail", after=True) / open_rate("gmail", after=False)
    assert 0.6 < gmail_drop < 1.6
    assert yahoo_drop < 0.4 * gmail_drop
    yahoo = is_("mailbox_provider", "yahoo")
    before = observe(run.rows, where(yahoo, lambda r: occurred(r) < start))
    after = observe(run.rows, where(yahoo, lambda r: occurred(r) >= start))
    assert after.per_send("delivered") > 0.95 * before.per_send("delivered")


def test_complaint_creep_crossings_match_the_complaint_rate_in_the_data() -> None:
    run = simulate("complaint_creep", scale=0.05)
    incident = run.incident()
    assert incident["step"] is False
    crosses = incident["crosses"]
    start, first, second = incident["start"], crosses["0.1%"], crosses["0.3%"]
    assert start <= first < second < incident["end"]
    day_after = iso(int(parse_time(second).timestamp()) + 86_400)

    def rate(low: str, high: str) -> tuple[int, int]:
        return complaint_rate(run.rows, lambda at: low <= at < high)

    healthy = rate("", start)
    rising = rate(first, second)
    high = rate(second, day_after)
    assert plausibly_below(*healthy, 0.0006)
    assert plausibly_above(*rising, 0.0008)
    assert plausibly_below(*rising, 0.003)
    assert plausibly_above(*high, 0.0025)
    assert plausibly_below(*high, 0.0045)
    assert healthy[0] / healthy[1] < high[0] / high[1]
    assert parse_time(start).hour in range(7, 20)


def test_a_start_off_midnight_keeps_campaigns_by_day_and_the_surge_at_night() -> None:
    run = simulate("night_volume_surge", days=2, scale=0.01, start=T0 + DAY + 7 * 3_600 + 123)
    start, end = window(run)
    assert run.truth["start"] <= start < end <= run.truth["end"]
    assert parse_time(start).hour in (2, 3)
    hours = {
        parse_time(row["occurred_at"]).hour
        for row in run.rows
        if row["type"] == "queued" and row["campaign"].count("-") == 4
    }
    assert hours and hours <= set(range(8, 22))
