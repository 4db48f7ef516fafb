"""The cost slopes' arithmetic at its edges: which points lie above the measurement floor and
the log-log fit through them."""

import math

import pandas as pd
import pytest

from sagan.cost.slopes import above_floor, loglog_slope, scaling_slope


def test_loglog_slope_fits_positive_points_only_and_needs_two():
    assert loglog_slope([1, 2, 4, 0, 8], [3, 12, 48, 5, -1]) == pytest.approx(2.0)
    assert math.isnan(loglog_slope([1, 0, 2], [1, 1, 0]))  # one positive point left
    assert loglog_slope([0.5, 1.0], [0.25, 1.0]) == pytest.approx(2.0)  # below 1 is fine
    with pytest.raises(ValueError):
        loglog_slope([1, 2], [1, 2, 3])


def test_the_floor_of_each_cost_column():
    mem = pd.DataFrame({"overhead_mem_mib": [0.1, 0.11, 0.5]})
    assert above_floor(mem, "overhead_mem_mib").tolist() == [False, True, True]
    timed = pd.DataFrame({"overhead_ms": [5.0, 5.0, 5.0, 0.5, 0.0],
                          "ratio_lo": [0.9, 1.1, None, 1.2, 1.5]})  # fmt: skip
    assert above_floor(timed, "overhead_ms").tolist() == [False, True, True, True, False]
    untimed = pd.DataFrame({"overhead_ms": [0.5, 0.0, -1.0]})  # an older profile
    assert above_floor(untimed, "overhead_ms").tolist() == [True, False, False]
    macs = pd.DataFrame({"attention_macs": [0.5, 0.0, "n/a"]})
    assert above_floor(macs, "attention_macs").tolist() == [True, False, False]


def test_a_slope_needs_three_token_counts_above_the_floor():
    rows = pd.DataFrame({"tokens": [0.5, 1.0, 2.0, 4.0], "attention_macs": [1.0, 4.0, 16.0, 64.0]})
    assert scaling_slope(rows, "attention_macs") == pytest.approx(2.0)
    assert math.isnan(scaling_slope(rows.iloc[2:], "attention_macs"))  # two counts
    zero = pd.DataFrame({"tokens": [0, 2, 4], "attention_macs": [1.0, 16.0, 64.0]})
    assert math.isnan(scaling_slope(zero, "attention_macs"))  # N = 0 is no point


def test_busy_cpu_time_is_every_state_but_idle_and_iowait(monkeypatch, tmp_path):
    import os

    import sagan.cost.timing as timing

    # user nice system idle iowait irq softirq steal, then guest (inside user: not added)
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 20 30 400 50 6 7 8 9 10\ncpu0 1 2 3 4 5 6 7 8 9 10\n")
    real_open = open
    monkeypatch.setattr(timing, "open", lambda path, *a: real_open(stat, *a), raising=False)
    assert timing.busy_cpu_seconds() == pytest.approx(171 / os.sysconf("SC_CLK_TCK"))
    stat.write_text("intr 1 2 3\n")
    assert timing.busy_cpu_seconds() is None  # not the cpu line: no reading


def test_the_median_interval_takes_the_widest_order_statistics_reaching_95_percent():
    from sagan.cost.timing import median_interval

    # n = 20: k = 6 covers 1 - 2 P(Bin(20, 1/2) <= 5) = 0.9586; k = 7 only 0.8847
    lo, hi, cover = median_interval([float(v) for v in range(1, 21)])
    assert (lo, hi) == (6.0, 15.0) and cover == pytest.approx(0.958611, abs=1e-6)
    # n = 10: k = 2 (0.9785); n = 9: k = 2 (0.9609); n = 8: only min-max (k = 1) would
    # reach 95%, so there is no interval, as for n = 5
    assert median_interval([float(v) for v in range(1, 11)])[:2] == (2.0, 9.0)
    assert median_interval([float(v) for v in range(1, 10)]) == (2.0, 8.0, pytest.approx(0.9609375))
    for n in (8, 5, 1):
        assert all(math.isnan(v) for v in median_interval([float(v) for v in range(n)]))
    assert all(math.isnan(v) for v in median_interval([math.nan]))


def test_a_machine_is_loaded_above_a_tenth_of_its_cores_not_at_it():
    from sagan.cost.timing import machine_load

    assert not machine_load(0.5, 0.5, 2, other_cores=0.2)["loaded"]
    assert machine_load(0.5, 0.5, 2, other_cores=0.21)["loaded"]
    row = machine_load(1.234, 2.345, 2, other_cores=0.456)
    assert (row["load_before"], row["load_after"], row["other_cores"]) == (1.23, 2.35, 0.46)
    assert not machine_load(2.0, 2.0, 2)["loaded"] and machine_load(2.0, 2.5, 2)["loaded"]
