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
