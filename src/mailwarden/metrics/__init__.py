"""Per-minute rollups by dimension, window sums, exposure, cohorts and baselines."""
