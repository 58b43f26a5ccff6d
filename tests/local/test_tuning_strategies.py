"""The tuning strategies in-process: ranges and scaling, grid order, Bayesian vs random,
AWS's median early-stopping rule, Hyperband's pruning and MaxResource."""
from __future__ import annotations

import math

import pytest

pytest.importorskip("optuna")

from local_backends.sagemaker.tuning_strategies import (  # noqa: E402
    BayesianStrategy, GridStrategy, HyperbandStrategy, RandomStrategy, RangeError, hyperband_resources,
    make_strategy, median_rule_stops, parse_ranges)

RANGES = {
    "IntegerParameterRanges": [{"Name": "depth", "MinValue": "2", "MaxValue": "9"}],
    "ContinuousParameterRanges": [
        {"Name": "eta", "MinValue": "0.001", "MaxValue": "1", "ScalingType": "Logarithmic"},
        {"Name": "momentum", "MinValue": "0.9", "MaxValue": "0.999", "ScalingType": "ReverseLogarithmic"}],
    "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}],
}


def test_random_draws_stay_in_their_ranges_and_follow_the_scale():
    strategy = RandomStrategy(parse_ranges(RANGES), maximize=True, seed=1)
    draws = [strategy.ask().params for _ in range(200)]
    assert all(set(d) == {"depth", "eta", "momentum", "booster"} for d in draws)
    assert {int(d["depth"]) for d in draws} == set(range(2, 10))
    etas = [float(d["eta"]) for d in draws]
    assert all(0.001 <= e <= 1 for e in etas)
    # log-uniform: about a third of the draws in each decade below 1 (uniform would put 0.1 %
    # of them under 0.001 * 10)
    assert sum(e < 0.01 for e in etas) > 40
    moms = [float(d["momentum"]) for d in draws]
    assert all(0.9 <= m <= 0.999 for m in moms)
    assert sum(m > 0.99 for m in moms) > 60  # reverse log crowds values near 1 (linear: 9 %)
    assert {d["booster"] for d in draws} == {"gbtree", "dart"}


@pytest.mark.parametrize("ranges, message", [
    ({"ContinuousParameterRanges": [{"Name": "a", "MinValue": "0", "MaxValue": "1",
                                     "ScalingType": "Logarithmic"}]}, "greater than 0"),
    ({"ContinuousParameterRanges": [{"Name": "a", "MinValue": "0.5", "MaxValue": "1",
                                     "ScalingType": "ReverseLogarithmic"}]}, "0 <= x < 1.0"),
    ({"IntegerParameterRanges": [{"Name": "a", "MinValue": "1", "MaxValue": "5",
                                  "ScalingType": "ReverseLogarithmic"}]}, "integer"),
    ({"IntegerParameterRanges": [{"Name": "a", "MinValue": "5", "MaxValue": "1"}]}, "less than or equal"),
    ({"IntegerParameterRanges": [{"Name": "a", "MinValue": "x", "MaxValue": "1"}]}, "not a valid"),
    ({"IntegerParameterRanges": [{"Name": "a", "MinValue": "1", "MaxValue": "2"}],
      "CategoricalParameterRanges": [{"Name": "a", "Values": ["1"]}]}, "unique"),
])
def test_bad_ranges_are_rejected(ranges, message):
    with pytest.raises(RangeError, match=message):
        parse_ranges(ranges)


def test_grid_runs_each_combination_once_in_order_and_only_categoricals():
    ranges = parse_ranges({"CategoricalParameterRanges": [{"Name": "a", "Values": ["1", "2"]},
                                                          {"Name": "b", "Values": ["x", "y", "z"]}]})
    grid = GridStrategy(ranges, maximize=True)
    assert grid.capacity() == 6
    combos = []
    while (trial := grid.ask()) is not None:
        combos.append((trial.params["a"], trial.params["b"]))
    assert combos == [("1", "x"), ("1", "y"), ("1", "z"), ("2", "x"), ("2", "y"), ("2", "z")]
    with pytest.raises(RangeError, match="only categorical"):
        GridStrategy(parse_ranges({"IntegerParameterRanges": [{"Name": "a", "MinValue": "1",
                                                                "MaxValue": "3"}]}), True)


def _objective(params: dict[str, str]) -> float:
    x, y = float(params["x"]), float(params["y"])
    return -((x - 0.73) ** 2) - (y - 0.21) ** 2


def _best_after(strategy, n: int) -> float:
    best = -math.inf
    for _ in range(n):
        trial = strategy.ask()
        value = _objective(trial.params)
        strategy.tell(trial, value)
        best = max(best, value)
    return best


def test_bayesian_finds_better_points_than_random_with_the_same_budget():
    ranges = parse_ranges({"ContinuousParameterRanges": [
        {"Name": "x", "MinValue": "0", "MaxValue": "1"}, {"Name": "y", "MinValue": "0", "MaxValue": "1"}]})
    bayes = [_best_after(BayesianStrategy(ranges, True, seed=s), 25) for s in range(3)]
    rand = [_best_after(RandomStrategy(ranges, True, seed=s), 25) for s in range(3)]
    assert sum(bayes) > sum(rand)


def test_failed_and_pruned_trials_are_accepted():
    strategy = BayesianStrategy(parse_ranges(RANGES), maximize=False, seed=0)
    t1, t2, t3 = strategy.ask(), strategy.ask(), strategy.ask()
    strategy.tell(t1, None, "fail")
    strategy.tell(t2, 0.5, "pruned")
    strategy.tell(t3, float("nan"))  # a NaN objective counts as a failure
    states = [t.state.name for t in strategy.study.trials]
    assert states == ["FAIL", "PRUNED", "FAIL"]


def test_median_rule_is_aws_s():
    finished = [[0.5, 0.6, 0.7], [0.4, 0.5, 0.6], [0.6, 0.7, 0.8]]
    # running averages at epoch 2: 0.55, 0.45, 0.65 -> median 0.55
    assert median_rule_stops([0.1, 0.5], finished, maximize=True)
    assert not median_rule_stops([0.1, 0.6], finished, maximize=True)
    assert median_rule_stops([0.1, 0.6], finished, maximize=False)
    assert not median_rule_stops([0.1, 0.5], finished[:2], maximize=True)  # fewer than 3: no verdict
    assert not median_rule_stops([0.1] * 4, finished, maximize=True)      # none reached epoch 4


def test_hyperband_stops_at_max_resource_and_prunes_bad_curves():
    ranges = parse_ranges({"ContinuousParameterRanges": [{"Name": "q", "MinValue": "0", "MaxValue": "1"}]})
    hb = HyperbandStrategy(ranges, maximize=True, seed=0, min_resource=1, max_resource=9)
    pruned_bad = 0
    for i in range(24):
        trial = hb.ask()
        good = i % 2 == 0
        stopped_at = None
        for step in range(1, 12):
            value = (0.9 if good else 0.1) * step / 10
            if hb.report(trial, step, value):
                stopped_at = step
                break
        assert stopped_at is not None and stopped_at <= 9  # MaxResource caps every trial
        if not good and stopped_at < 9:
            pruned_bad += 1
        hb.tell(trial, trial.reported[-1], "pruned" if stopped_at < 9 else "complete")
    assert pruned_bad > 0


def test_hyperband_max_resource_is_inferred_from_epochs_as_aws_does():
    assert hyperband_resources({}, {"epochs": "30"}) == (1, 30)
    assert hyperband_resources({"MinResource": 2, "MaxResource": 10}, {}) == (2, 10)
    with pytest.raises(RangeError, match="MaxResource"):
        hyperband_resources({}, {"num_round": "30"})


def test_make_strategy_picks_by_name():
    config = {"Strategy": "Hyperband", "ParameterRanges": RANGES,
              "StrategyConfig": {"HyperbandStrategyConfig": {"MaxResource": 5}},
              "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "m"}}
    strategy = make_strategy(config, {})
    assert (strategy.name, strategy.maximize, strategy.max_resource) == ("Hyperband", False, 5)


def test_integer_logarithmic_and_explicit_linear_scaling():
    ranges = parse_ranges({
        "IntegerParameterRanges": [{"Name": "trees", "MinValue": "1", "MaxValue": "1000",
                                    "ScalingType": "Logarithmic"}],
        "ContinuousParameterRanges": [{"Name": "frac", "MinValue": "0", "MaxValue": "1", "ScalingType": "Linear"},
                                      {"Name": "auto", "MinValue": "0", "MaxValue": "1", "ScalingType": "Auto"}]})
    assert [(r.name, r.scaling) for r in ranges] == [("trees", "Logarithmic"), ("frac", "Linear"), ("auto", "Linear")]
    strategy = RandomStrategy(ranges, maximize=True, seed=4)
    draws = [strategy.ask().params for _ in range(300)]
    trees = [int(d["trees"]) for d in draws]
    assert all(1 <= t <= 1000 for t in trees) and all(d["trees"].isdigit() for d in draws)
    assert sum(t < 32 for t in trees) > 100  # log-uniform: half the draws under sqrt(1000); linear: 3 %
    for key in ("frac", "auto"):
        values = [float(d[key]) for d in draws]
        assert 0.4 < sum(values) / len(values) < 0.6 and sum(v < 0.1 for v in values) < 60
