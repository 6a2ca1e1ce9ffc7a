"""Healthy traffic: who gets mail, when campaigns go out, and the steady streams between them.

Marketing campaigns (news.example.org over 203.0.113.5-7) start in working hours, a few per
weekday and at most one small one a day at weekends, and spread their sends over one to two
hours. Automations (welcome series, cart reminders) trickle from the same domain all day;
transactional mail (password resets, receipts) comes from mail.example.org on 203.0.113.10.
The steady streams follow a diurnal and weekly rhythm. Each campaign draws its own true rates
around healthy means, so no two campaigns look alike.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from random import Random
from typing import Final

from mailwarden.simulate.model import (
    DAY,
    HOUR,
    MARKETING_DOMAIN,
    MARKETING_IPS,
    MINUTE,
    TRANSACTIONAL_DOMAIN,
    TRANSACTIONAL_IP,
    Audience,
    Campaign,
    Config,
    Mix,
    Rates,
    Send,
    seeded,
)

WARMUP_DAYS: Final = 1  # traffic starts a day early so complaints and opens are in flight
POOL_PER_SCALE: Final = 500_000
STALE_NAMESPACE: Final = 1_000_000_000
HARVESTED_NAMESPACE: Final = 2_000_000_000

# Domain weights in per mille, by mailbox provider (gmail 45%, microsoft 20%, yahoo 12% ...).
MAIN_DOMAINS: Final = (
    ("gmail.com", "gmail", 440),
    ("googlemail.com", "gmail", 10),
    ("outlook.com", "microsoft", 80),
    ("hotmail.com", "microsoft", 80),
    ("live.com", "microsoft", 20),
    ("msn.com", "microsoft", 10),
    ("hotmail.co.uk", "microsoft", 10),
    ("yahoo.com", "yahoo", 80),
    ("aol.com", "yahoo", 30),
    ("ymail.com", "yahoo", 5),
    ("sbcglobal.net", "yahoo", 5),
    ("icloud.com", "apple", 80),
    ("me.com", "apple", 15),
    ("mac.com", "apple", 5),
    ("example.com", "other", 30),
    ("example.net", "other", 20),
    ("example.co.uk", "other", 10),
    ("comcast.net", "other", 20),
    ("gmx.de", "other", 15),
    ("web.de", "other", 10),
    ("orange.fr", "other", 10),
    ("protonmail.com", "other", 15),
)
# An old list bought or revived: more Yahoo/AOL and Hotmail, fewer iCloud addresses.
STALE_DOMAINS: Final = (
    ("gmail.com", "gmail", 400),
    ("hotmail.com", "microsoft", 150),
    ("outlook.com", "microsoft", 50),
    ("yahoo.com", "yahoo", 150),
    ("aol.com", "yahoo", 100),
    ("icloud.com", "apple", 30),
    ("example.com", "other", 40),
    ("comcast.net", "other", 50),
    ("example.net", "other", 30),
)
FIRST_NAMES: Final = (
    "alex", "maria", "james", "sofia", "liam", "emma", "noah", "olivia", "lucas", "mia",
    "ethan", "ava", "mateo", "chloe", "leo", "zoe", "omar", "lena", "ivan", "nora", "raj",
    "anna", "tom", "sara", "ben", "julia", "kai", "eva", "sam", "ines", "yuki", "amir",
)  # fmt: skip
LAST_NAMES: Final = (
    "smith", "garcia", "mueller", "rossi", "kim", "nguyen", "dubois", "silva", "jones",
    "novak", "khan", "lopez", "brown", "tanaka", "walker", "petrov", "moreau", "costa",
    "meyer", "patel", "evans", "fischer", "berg", "ward", "young", "hill", "lind", "ali",
)  # fmt: skip
# Relative send rate by UTC hour, and by weekday (Monday first).
DIURNAL: Final = (
    0.25, 0.2, 0.15, 0.15, 0.2, 0.3, 0.5, 0.8, 1.2, 1.5, 1.6, 1.6,
    1.5, 1.5, 1.5, 1.4, 1.3, 1.2, 1.1, 1.0, 0.9, 0.7, 0.5, 0.35,
)  # fmt: skip
WEEKLY: Final = (1.0, 1.05, 1.05, 1.0, 0.95, 0.6, 0.55)
CAMPAIGN_HOURS: Final = (8, 9, 9, 10, 10, 10, 11, 13, 14, 14, 15, 16, 17, 18)
CAMPAIGN_PREFIXES: Final = ("news", "promo", "bf", "digest", "launch", "promo", "bf")
# (name, share, healthy rates) of the transactional and automation streams.
TRANSACTIONAL: Final = (
    (
        "txn-password-reset",
        0.25,
        Rates(0.002, 0.0005, 0.008, 0.0005, 0.00002, 0.0, 0.7, 0.55, 0.85),
    ),
    ("txn-receipt", 0.4, Rates(0.002, 0.0005, 0.008, 0.0005, 0.00003, 0.0, 0.4, 0.08, 0.85)),
    ("txn-shipping", 0.25, Rates(0.002, 0.0005, 0.008, 0.0005, 0.00003, 0.0, 0.5, 0.2, 0.85)),
    ("txn-welcome", 0.1, Rates(0.006, 0.0005, 0.01, 0.0005, 0.00005, 0.0, 0.55, 0.25, 0.85)),
)
AUTOMATION: Final = (
    (
        "auto-welcome-series",
        0.5,
        Rates(0.004, 0.001, 0.012, 0.001, 0.0003, 0.0015, 0.38, 0.06, 0.8),
    ),
    ("auto-cart-reminder", 0.35, Rates(0.003, 0.001, 0.012, 0.001, 0.0003, 0.002, 0.33, 0.07, 0.8)),
    ("auto-winback", 0.15, Rates(0.006, 0.0015, 0.015, 0.002, 0.0005, 0.003, 0.2, 0.02, 0.8)),
)
TRANSACTIONAL_PER_HOUR: Final = 150.0
AUTOMATION_PER_HOUR: Final = 40.0


def make_mix(domains: tuple[tuple[str, str, int], ...]) -> Mix:
    """Spread weighted domains over 1000 slots."""
    slots: list[tuple[str, str]] = []
    for domain, provider, weight in domains:
        slots.extend([(domain, provider)] * weight)
    if len(slots) != 1000:
        raise ValueError(f"domain weights must add up to 1000, got {len(slots)}")
    return Mix(tuple(slots))


def address(index: int, mix: Mix) -> tuple[str, str]:
    """The recipient address and mailbox provider of an audience index (stable, unique)."""
    h = (index * 0x9E3779B1 + 0x7F4A7C15) & 0xFFFFFFFF
    h = ((h ^ (h >> 16)) * 0x45D9F3B) & 0xFFFFFFFF
    h ^= h >> 16
    domain, provider = mix.slots[h % 1000]
    first = FIRST_NAMES[(h >> 10) % len(FIRST_NAMES)]
    last = LAST_NAMES[(h >> 15) % len(LAST_NAMES)]
    style = (h >> 20) & 3
    number = index % 100_000_000
    if style == 0:
        local = f"{first}.{last}{number}"
    elif style == 1:
        local = f"{first}{last[0]}{number}"
    elif style == 2:
        local = f"{first[0]}{last}{number}"
    else:
        local = f"{first}_{last}{number}"
    return f"{local}@{domain}", provider


def pool_size(config: Config) -> int:
    """How many subscribers the main list has at this scale."""
    return max(1_000, int(POOL_PER_SCALE * config.scale))


def audience(namespace: int, size: int, rng: Random, mix: Mix) -> Audience:
    """A random walk over size distinct indices of a namespace."""
    stride = rng.randrange(size // 3 + 1, size) if size > 2 else 1
    while math.gcd(stride, size) != 1:
        stride += 1
    return Audience(namespace, size, rng.randrange(size), stride, mix)


def marketing_rates(rng: Random) -> Rates:
    """One campaign's true rates, drawn around healthy means."""
    return Rates(
        hard=rng.uniform(0.003, 0.008),
        block=rng.uniform(0.001, 0.003),
        defer=rng.uniform(0.008, 0.025),
        drop=rng.uniform(0.0005, 0.002),
        complaint=rng.uniform(0.0002, 0.0006),
        unsub=rng.uniform(0.001, 0.003),
        open=rng.uniform(0.15, 0.35),
        click=rng.uniform(0.01, 0.04),
        apple_open=rng.uniform(0.7, 0.9),
    )


def weekday(seconds: int) -> int:
    """Day of the week of a Unix time, Monday 0."""
    return time.gmtime(seconds).tm_wday


def plan_campaigns(config: Config) -> list[Campaign]:
    """The marketing campaigns of the window (and of the warm-up day before it)."""
    rng = seeded(config.seed, "plan")
    mix = make_mix(MAIN_DOMAINS)
    pool = pool_size(config)
    campaigns: list[Campaign] = []
    day_start = (config.start // DAY - WARMUP_DAYS) * DAY  # calendar days, UTC
    while day_start < config.end:
        campaigns.extend(_day_campaigns(day_start, rng, config, mix, pool))
        day_start += DAY
    for serial, campaign in enumerate(campaigns, start=1):
        campaign.serial = serial
    return campaigns


def _day_campaigns(
    day_start: int, rng: Random, config: Config, mix: Mix, pool: int
) -> list[Campaign]:
    wday = weekday(day_start)
    weekend = wday >= 5
    count = rng.choice((0, 1, 1)) if weekend else rng.randint(2, 4)
    hours = sorted(rng.sample(CAMPAIGN_HOURS[1:-2] if weekend else CAMPAIGN_HOURS, count))
    date = time.strftime("%Y-%m-%d", time.gmtime(day_start))
    found = []
    for number, hour in enumerate(hours):
        if weekend:
            nominal = rng.uniform(5_000, 30_000)
        elif number == 0 and wday in (1, 3):
            nominal = rng.uniform(100_000, 150_000)  # the weekly flagship sends
        else:
            nominal = math.exp(rng.uniform(math.log(5_000), math.log(150_000)))
        size = min(pool, max(1, round(nominal * config.scale)))
        ips = MARKETING_IPS if nominal >= 60_000 else tuple(sorted(rng.sample(MARKETING_IPS, 2)))
        prefix = rng.choice(CAMPAIGN_PREFIXES)
        found.append(
            Campaign(
                name=f"{prefix}-{date}-{chr(ord('a') + number)}",
                kind="marketing",
                domain=MARKETING_DOMAIN,
                ips=ips,
                start=day_start + hour * HOUR + rng.choice((0, 0, 15, 30, 45)) * MINUTE,
                duration=rng.randint(60, 120) * MINUTE,
                size=size,
                rates=marketing_rates(rng),
                tags=[prefix if prefix != "bf" else "promo"],
                audience=audience(0, pool, rng, mix),
            )
        )
    return found


def campaign_sends(campaign: Campaign, config: Config) -> Iterator[Send]:
    """A campaign's sends in time order, spread evenly over its duration."""
    schedule = seeded(config.seed, "sends", campaign.name)
    outcomes = seeded(config.seed, "outcomes", campaign.name)
    aud = campaign.audience
    ips = campaign.ips
    n = campaign.size
    prefix = f"{campaign.serial:04x}"
    for j in range(n):
        at = campaign.start + int((j + schedule.random()) * campaign.duration / n)
        if at >= config.end:
            return
        index = aud.namespace + (aud.offset + j * aud.stride) % aud.size
        recipient, provider = address(index, aud.mix)
        ip = ips[j % len(ips)]
        yield Send(
            at, campaign, recipient, provider, ip, f"{prefix}{j:08x}.sim{config.seed}", outcomes
        )


def rhythm(seconds: int) -> float:
    """Relative sending activity at a time: diurnal times weekly."""
    moment = time.gmtime(seconds)
    return DIURNAL[moment.tm_hour] * WEEKLY[moment.tm_wday]


def stream_campaigns(config: Config, kind: str) -> list[Campaign]:
    """The named members of a steady stream (transactional or automation)."""
    table = TRANSACTIONAL if kind == "transactional" else AUTOMATION
    domain = TRANSACTIONAL_DOMAIN if kind == "transactional" else MARKETING_DOMAIN
    ips = (TRANSACTIONAL_IP,) if kind == "transactional" else (MARKETING_IPS[0],)
    mix = make_mix(MAIN_DOMAINS)
    pool = pool_size(config)
    start = config.start - WARMUP_DAYS * DAY
    tag = "transactional" if kind == "transactional" else "automation"
    return [
        Campaign(
            name=name,
            kind=kind,
            domain=domain,
            ips=ips,
            start=start,
            duration=config.end - start,
            size=0,
            rates=rates,
            tags=[tag, name.split("-", 1)[1]],
            audience=Audience(0, pool, 0, 1, mix),
            serial=0xF000 + number + (0x10 if kind == "transactional" else 0),
        )
        for number, (name, _, rates) in enumerate(table)
    ]


def stream_sends(members: list[Campaign], config: Config, per_hour: float) -> Iterator[Send]:
    """A steady Poisson stream following the rhythm, each send going to one member by share."""
    if not members:
        return
    kind = members[0].kind
    table = TRANSACTIONAL if kind == "transactional" else AUTOMATION
    shares = [share for _, share, _ in table]
    schedule = seeded(config.seed, "stream", kind)
    outcomes = seeded(config.seed, "outcomes", kind)
    peak = per_hour * config.scale * max(DIURNAL) * max(WEEKLY) / HOUR
    at = float(members[0].start)
    count = 0
    while True:
        at += schedule.expovariate(peak)
        second = int(at)
        if second >= config.end:
            return
        if schedule.random() * max(DIURNAL) * max(WEEKLY) > rhythm(second):
            continue
        member = schedule.choices(members, shares)[0]
        index = schedule.randrange(member.audience.size)
        recipient, provider = address(index, member.audience.mix)
        message_id = f"{member.serial:04x}{count:08x}.sim{config.seed}"
        count += 1
        yield Send(second, member, recipient, provider, member.ips[0], message_id, outcomes)
