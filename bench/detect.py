"""Detection benchmark: simulate every scenario for a few seeds, replay each through the live
path (ingest -> bus -> rollups -> detection, on a simulated clock), score the findings
against the injected truth, and measure what detection costs next to ingest alone.

Scoring (see detect_score.py): a finding matches an incident when its kind is one of the
incident's kinds, its scope one of its scopes, and it was first seen within [start, end +
1 h]. Only incident-worthy findings (warning, critical) count, as matches and as false
alarms; info findings are not alarms. Delays are first_seen - injected start of the first
matching finding. Two step-delay medians are printed: over every incident the truth marks
as a step, and over the step changes the issue's target names (bad list, blocks,
throttling, surges, silence), leaving out complaint spikes and engagement collapse, whose
signal trails the step by nature.

Cost (see detect_cost.py): one scenario (a quiet day) per seed and volume is replayed
again, ingest alone (detection disabled) and with detection side by side in this process,
the two taking turns batch by batch; the overhead is the ratio of their per-event CPU time
(wall time too). Detection
costs something per event and something per simulated minute (each minute's tick: windows
slid, cohorts matured, keys evaluated; rollups are written once a second of wall time, so a
replay writes many minutes at once), so the overhead falls as volume
rises; from two volumes the bench solves for both parts and prints the per-event part
against ingest. Prints in words, then one JSON line per figure group.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from detect_cost import (
    describe_cost,
    describe_split,
    fresh_services,
    measure_cost,
    median_cost,
    split_cost,
)
from detect_hotpath import measure_hot_path
from detect_score import RunScore, per_incident, per_kind, score_run, summarise
from mailwarden.detect.replay import Replayer, ReplayStats, start_of
from mailwarden.runtime import tune_gc
from mailwarden.simulate.scenarios import NAMES as SCENARIO_NAMES


def _emit(record: dict[str, Any]) -> None:
    print(orjson.dumps(record).decode(), flush=True)


def simulate(seed: int, scale: float, days: int, out: str, scenario: str = "all") -> None:
    """Write scenarios of one seed with `mailwarden simulate` (all of them into out/)."""
    exe = Path(sys.executable).with_name("mailwarden")
    command = [str(exe), "simulate", "--scenario", scenario, "--seed", str(seed)]
    command += ["--scale", str(scale), "--days", str(days), "--out", out]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def replay(path: Path, db: Path, *, detection: bool) -> tuple[ReplayStats, Any, float]:
    """Replay one file through a fresh database; return the stats, services and CPU seconds."""
    with path.open("rb") as lines:  # streamed, as the CLI does
        start = start_of(lines)
        assert start is not None, f"{path}: no events"
        services, clock = fresh_services(db, start, detection=detection)
        began = time.process_time()
        stats = Replayer(services.ingest, clock, services.detection, source=path.name).run(lines)
        return stats, services, time.process_time() - began


def score_file(path: Path, db: Path) -> tuple[RunScore, ReplayStats]:
    """Replay one scenario with detection and score its findings."""
    truth = orjson.loads(path.with_name(path.name + ".truth.json").read_bytes())
    stats, services, _cpu = replay(path, db, detection=True)
    try:
        assert services.detection is not None
        findings = services.detection.list_findings()
        keys = len(services.detection.state.book.series)
    finally:
        services.close()
    return score_run(truth, findings, keys), stats


def _describe(summary: dict[str, Any], incidents: dict[str, Any]) -> None:
    print(
        f"detection: {summary['runs']} scenario runs, {summary['incidents']} injected incidents;"
        f" recall {summary['recall']}, precision {summary['precision']} (warning/critical"
        f" findings that match an incident); {summary['false_per_week_quiet']} false"
        f" incident-worthy findings per simulated quiet week"
        f" ({summary['false_per_week_per_100_keys_quiet']} per 100 active keys);"
        f" median delay for step changes {summary['median_delay_min_step']} min"
        f" (p90 {summary['p90_delay_min_step']}), for the issue's step changes (bad list,"
        f" blocks, throttling, surges, silence) {summary['median_delay_min_target_steps']} min"
        f" (p90 {summary['p90_delay_min_target_steps']}); slow complaint creep caught before"
        " 0.3 %:"
        f" {summary['creep_caught_before_0.3pct']}"
    )
    for name, figures in incidents.items():
        print(
            f"  {name}: recall {figures['recall']} of {figures['n']}, median delay"
            f" {figures['median_delay_min']} min, p90 {figures['p90_delay_min']} min,"
            f" first caught by {figures['first_kinds']}"
        )


def main() -> None:
    """Run the detection benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--scale", type=float, default=0.1, help="simulator volume (0.1: small counts)"
    )
    parser.add_argument("--seeds", type=int, default=3, help="seeds 1..N")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--scenarios", default=",".join(SCENARIO_NAMES))
    parser.add_argument("--cost-scenario", default="quiet_week")
    parser.add_argument(
        "--cost-scales", default="1,5", help="volumes of the cost runs (1: ~160 events a minute)"
    )
    parser.add_argument("--cost-days", type=int, default=1)
    parser.add_argument(
        "--cost-repeats", type=int, default=1, help="paired replays of each cost file"
    )
    parser.add_argument("--workdir", type=Path, default=None, help="keep files here")
    parser.add_argument("--hot-path-events", type=int, default=200_000)
    args = parser.parse_args()
    wanted = [name for name in args.scenarios.split(",") if name]
    tune_gc()  # as `mailwarden serve` and `worker`, where detection runs live, set memory up
    with tempfile.TemporaryDirectory() as scratch:
        work = args.workdir or Path(scratch)
        runs: list[RunScore] = []
        scales = [float(scale) for scale in args.cost_scales.split(",") if scale]
        costs: dict[float, list[dict[str, float]]] = {scale: [] for scale in scales}
        for seed in range(1, args.seeds + 1):
            folder = work / f"seed{seed}"
            if not (folder / "quiet_week.ndjson.truth.json").exists():
                simulate(seed, args.scale, args.days, f"{folder}/")
            for name in wanted:
                run, stats = score_file(folder / f"{name}.ndjson", work / "detect.db")
                runs.append(run)
                print(
                    f"  seed {seed} {name}: {stats.lines:,} events at"
                    f" {stats.events_per_second:,.0f}/s, {len(run.worthy)} findings,"
                    f" {len(run.false)} false, caught"
                    f" {sum(hit is not None for _, hit in run.caught)}/{len(run.caught)}",
                    flush=True,
                )
            for scale in scales:
                cost_file = work / f"cost{seed}-{scale:g}" / f"{args.cost_scenario}.ndjson"
                if not cost_file.exists():
                    cost_file.parent.mkdir(parents=True, exist_ok=True)
                    simulate(seed, scale, args.cost_days, str(cost_file), args.cost_scenario)
                costs[scale].append(measure_cost(cost_file, work, args.cost_repeats))
    summary = summarise(runs)
    incidents = per_incident(runs)
    cost = {scale: median_cost(figures, args.cost_days) for scale, figures in costs.items()}
    split = split_cost(cost)
    hot = measure_hot_path(args.hot_path_events)
    _describe(summary, incidents)
    for scale, figures in cost.items():
        describe_cost(scale, figures)
    if split:
        describe_split(split)
    print(
        f"detection cost on the webhook hot path: SendGrid batches of 500, CPU per event"
        f" {hot['with_detection_cpu_us_per_event']:.2f} us with detection vs"
        f" {hot['ingest_only_cpu_us_per_event']:.2f} us ingest alone: detection adds"
        f" {hot['overhead']:.0%} (floor: at most 30 %)"
    )
    _emit(summary)
    _emit({"bench": "detect_incidents", **incidents})
    _emit({"bench": "detect_kinds", **per_kind(runs)})
    for scale, figures in cost.items():
        _emit(
            {
                "bench": "detect_cost",
                "scale": scale,
                "scenario": args.cost_scenario,
                **{key: round(value, 3) for key, value in figures.items()},
            }
        )
    if split:
        _emit({"bench": "detect_cost_split", **{k: round(v, 3) for k, v in split.items()}})
    _emit({"bench": "detect_cost_hot_path", **hot})


if __name__ == "__main__":
    main()
