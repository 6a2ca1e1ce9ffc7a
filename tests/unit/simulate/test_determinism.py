"""A seed fixes every byte; scenarios share their healthy traffic."""

from __future__ import annotations

from tests.unit.simulate.stats import simulate


def test_same_seed_gives_identical_bytes_and_truth() -> None:
    first = simulate("mixed", seed=11, days=3, scale=0.005)
    second = simulate("mixed", seed=11, days=3, scale=0.005)
    assert first.data == second.data
    assert first.truth == second.truth


def test_different_seeds_give_different_traffic() -> None:
    one = simulate("quiet_week", seed=1, days=2, scale=0.005)
    two = simulate("quiet_week", seed=2, days=2, scale=0.005)
    assert one.data != two.data
    assert {row["recipient"] for row in one.rows} != {row["recipient"] for row in two.rows}


def test_event_ids_name_seed_scenario_and_a_number() -> None:
    run = simulate("quiet_week", seed=5, days=1, scale=0.003)
    assert all(row["id"].startswith("sim:5:quiet_week:") for row in run.rows)


def test_scenarios_share_the_healthy_sends_of_a_seed() -> None:
    quiet = simulate("quiet_week", seed=4, days=5, scale=0.005)
    listed = simulate("ip_blocklisted", seed=4, days=5, scale=0.005)

    def sends(rows: list[dict[str, object]]) -> set[tuple[object, ...]]:
        return {
            (row["message_id"], row["occurred_at"], row["recipient"], row["sending_ip"])
            for row in rows
            if row["type"] == "queued"
        }

    assert sends(quiet.rows) == sends(listed.rows)
    assert quiet.data != listed.data
