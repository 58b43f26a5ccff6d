"""Search strategies of SageMaker hyperparameter tuning jobs: Random, Bayesian, Grid, Hyperband.

A strategy hands out hyperparameter combinations (:meth:`Strategy.ask`), is told each
trial's objective (:meth:`Strategy.tell`), and, for Hyperband, the trial's intermediate
objective values (:meth:`Strategy.report`, which answers whether to stop the trial).

* ``Random`` — independent draws from each range (Optuna's ``RandomSampler``).
* ``Bayesian`` — Optuna's TPE sampler (a tree-structured Parzen estimator; AWS uses a
  Gaussian-process model: same idea, a surrogate of the objective fitted to the trials so
  far), multivariate, with the "constant liar" so parallel trials do not all sample the same
  point.
* ``Grid`` — every combination of the categorical values, in order (AWS accepts only
  categorical ranges for grid search, and runs each combination once).
* ``Hyperband`` — random draws, and Optuna's ``HyperbandPruner`` over the trial's
  intermediate objective values: the resource is the number of objective values the trial
  has logged (its epochs), between ``MinResource`` and ``MaxResource``.

Scaling types: ``Linear`` samples uniformly; ``Logarithmic`` uniformly in log space (the
range must be positive); ``ReverseLogarithmic`` (continuous ranges within [0, 1) only)
uniformly in the log of ``1 - x``, which crowds values near 1; ``Auto`` is ``Linear`` here
(AWS picks a scale from its own heuristics).
"""
from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass, field
from typing import Any

HYPERBAND_EPOCH_KEYS = ("epochs", "numepochs", "n-epochs", "n_epochs", "num_epochs")
"""Static hyperparameters from which AWS infers Hyperband's ``MaxResource``."""

HYPERBAND_MAX_RESOURCE = 20000
GRID_MAX_COMBINATIONS = 10000


class RangeError(ValueError):
    """A parameter range AWS rejects (the message is AWS's ``ValidationException`` text)."""


@dataclass(frozen=True)
class Range:
    """One tunable hyperparameter."""

    name: str
    kind: str                       # "Integer", "Continuous" or "Categorical"
    low: float | None = None
    high: float | None = None
    scaling: str = "Linear"
    values: tuple[str, ...] = ()


def parse_ranges(ranges: dict | None) -> list[Range]:
    """The ``ParameterRanges`` of a request as :class:`Range` objects (or :class:`RangeError`)."""
    ranges = ranges or {}
    out: list[Range] = []
    for kind in ("Integer", "Continuous"):
        for r in ranges.get(f"{kind}ParameterRanges") or []:
            name = r["Name"]
            cast = int if kind == "Integer" else float
            try:
                low, high = cast(r["MinValue"]), cast(r["MaxValue"])
            except ValueError:
                raise RangeError(f"The {kind.lower()} hyperparameter range {name} has a MinValue "
                                 f"or MaxValue that is not a valid {kind.lower()}: "
                                 f"{r['MinValue']!r}, {r['MaxValue']!r}.") from None
            if not (math.isfinite(low) and math.isfinite(high)):
                raise RangeError(f"The hyperparameter range {name} must be finite.")
            if low > high:
                raise RangeError(f"The MinValue of hyperparameter range {name} ({r['MinValue']}) "
                                 f"must be less than or equal to its MaxValue ({r['MaxValue']}).")
            scaling = r.get("ScalingType") or "Auto"
            if scaling == "Logarithmic" and low <= 0:
                raise RangeError(f"Hyperparameter range {name}: logarithmic scaling works only for "
                                 f"ranges that have only values greater than 0.")
            if scaling == "ReverseLogarithmic":
                if kind == "Integer":
                    raise RangeError(f"Hyperparameter range {name}: reverse logarithmic scaling is "
                                     f"not supported for integer hyperparameters.")
                if low < 0 or high >= 1:
                    raise RangeError(f"Hyperparameter range {name}: reverse logarithmic scaling "
                                     f"works only for ranges that are entirely within the range "
                                     f"0 <= x < 1.0.")
            out.append(Range(name, kind, low, high, "Linear" if scaling == "Auto" else scaling))
    for r in ranges.get("CategoricalParameterRanges") or []:
        values = tuple(str(v) for v in r["Values"])
        if not values:
            raise RangeError(f"The categorical hyperparameter range {r['Name']} needs at least one value.")
        out.append(Range(r["Name"], "Categorical", values=values))
    if ranges.get("AutoParameters"):
        raise RangeError("AutoParameters (Autotune) are not supported by the local backend: give "
                         "explicit parameter ranges.")
    names = [r.name for r in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise RangeError(f"Hyperparameter names must be unique across parameter ranges: {dupes}.")
    return out


def format_value(rng: Range, value: Any) -> str:
    """A sampled value as the string a training job receives."""
    if rng.kind == "Integer":
        return str(int(value))
    if rng.kind == "Continuous":
        return repr(float(value))
    return str(value)


@dataclass
class Trial:
    """One combination handed out by a strategy."""

    number: int
    params: dict[str, str]
    handle: Any = None                 # the Optuna trial behind it, if any
    reported: list[float] = field(default_factory=list)


class Strategy:
    """Base of the strategies: ask for combinations, tell their objective."""

    name = ""

    def __init__(self, ranges: list[Range], maximize: bool, seed: int | None = None) -> None:
        self.ranges = ranges
        self.maximize = maximize
        self.seed = seed
        self._count = 0

    def capacity(self) -> int | None:
        """How many distinct trials the strategy can hand out (``None``: unbounded)."""
        return None

    def ask(self) -> Trial | None:
        raise NotImplementedError

    def tell(self, trial: Trial, value: float | None, state: str = "complete") -> None:
        """``state``: ``complete`` (with ``value``), ``fail`` or ``pruned`` (``value`` = last)."""

    def report(self, trial: Trial, step: int, value: float) -> bool:
        """Record an intermediate objective value; ``True`` if the trial should stop now."""
        trial.reported.append(value)
        return False


class _OptunaStrategy(Strategy):
    def __init__(self, ranges: list[Range], maximize: bool, seed: int | None = None) -> None:
        super().__init__(ranges, maximize, seed)
        import optuna

        optuna.logging.set_verbosity(logging.WARNING)
        self._optuna = optuna
        self.study = optuna.create_study(direction="maximize" if maximize else "minimize",
                                         sampler=self._sampler(), pruner=self._pruner())

    def _sampler(self):
        raise NotImplementedError

    def _pruner(self):
        return self._optuna.pruners.NopPruner()

    def ask(self) -> Trial:
        handle = self.study.ask()
        params = {}
        for r in self.ranges:
            if r.kind == "Categorical":
                value = handle.suggest_categorical(r.name, list(r.values))
            elif r.kind == "Integer":
                value = handle.suggest_int(r.name, int(r.low), int(r.high),
                                           log=r.scaling == "Logarithmic" and r.low != r.high)
            elif r.scaling == "ReverseLogarithmic":
                # 1 - x is log-uniform in [1 - high, 1 - low]
                lo, hi = 1.0 - r.high, 1.0 - r.low
                value = 1.0 - handle.suggest_float(f"{r.name}__one_minus", lo, hi, log=lo != hi)
            else:
                value = handle.suggest_float(r.name, r.low, r.high,
                                             log=r.scaling == "Logarithmic" and r.low != r.high)
            params[r.name] = format_value(r, value)
        self._count += 1
        return Trial(handle.number, params, handle)

    def tell(self, trial: Trial, value: float | None, state: str = "complete") -> None:
        states = self._optuna.trial.TrialState
        if state == "complete" and value is not None and math.isfinite(value):
            self.study.tell(trial.handle, value)
        elif state == "pruned":
            self.study.tell(trial.handle, state=states.PRUNED)
        else:
            self.study.tell(trial.handle, state=states.FAIL)


class RandomStrategy(_OptunaStrategy):
    """Independent random draws from every range."""

    name = "Random"

    def _sampler(self):
        return self._optuna.samplers.RandomSampler(seed=self.seed)


class BayesianStrategy(_OptunaStrategy):
    """A surrogate model of the objective (Optuna's TPE) proposes the next combinations."""

    name = "Bayesian"

    def __init__(self, ranges: list[Range], maximize: bool, seed: int | None = None,
                 startup_trials: int = 5) -> None:
        self.startup_trials = startup_trials
        super().__init__(ranges, maximize, seed)

    def _sampler(self):
        return self._optuna.samplers.TPESampler(
            seed=self.seed, n_startup_trials=self.startup_trials, multivariate=True,
            constant_liar=True)


class HyperbandStrategy(_OptunaStrategy):
    """Random draws; trials stopped by Hyperband over their intermediate objective values."""

    name = "Hyperband"

    def __init__(self, ranges: list[Range], maximize: bool, seed: int | None = None,
                 min_resource: int = 1, max_resource: int = 100, reduction_factor: int = 3) -> None:
        self.min_resource, self.max_resource = min_resource, max_resource
        self.reduction_factor = reduction_factor
        super().__init__(ranges, maximize, seed)

    def _sampler(self):
        return self._optuna.samplers.RandomSampler(seed=self.seed)

    def _pruner(self):
        return self._optuna.pruners.HyperbandPruner(
            min_resource=self.min_resource, max_resource=self.max_resource,
            reduction_factor=self.reduction_factor)

    def report(self, trial: Trial, step: int, value: float) -> bool:
        trial.reported.append(value)
        if not math.isfinite(value):
            return False
        trial.handle.report(value, step)
        return step >= self.max_resource or trial.handle.should_prune()


class GridStrategy(Strategy):
    """Every combination of the categorical values, each once, in order."""

    name = "Grid"

    def __init__(self, ranges: list[Range], maximize: bool, seed: int | None = None) -> None:
        super().__init__(ranges, maximize, seed)
        others = [r.name for r in ranges if r.kind != "Categorical"]
        if others:
            raise RangeError(f"Grid search supports only categorical hyperparameter ranges; "
                             f"got integer or continuous ranges for {others}.")
        if not ranges:
            raise RangeError("Grid search needs at least one categorical hyperparameter range.")
        total = math.prod(len(r.values) for r in ranges)
        if total > GRID_MAX_COMBINATIONS:
            raise RangeError(f"The grid has {total} combinations, more than the "
                             f"{GRID_MAX_COMBINATIONS} allowed.")
        self._grid = iter(itertools.product(*(r.values for r in ranges)))
        self._total = total

    def capacity(self) -> int:
        return self._total

    def ask(self) -> Trial | None:
        combo = next(self._grid, None)
        if combo is None:
            return None
        trial = Trial(self._count, {r.name: v for r, v in zip(self.ranges, combo)})
        self._count += 1
        return trial


def median_rule_stops(curve: list[float], finished: list[list[float]], maximize: bool) -> bool:
    """AWS's ``TrainingJobEarlyStoppingType: Auto`` rule at the current epoch of ``curve``.

    For each finished trial, the running average of its objective up to the same epoch; the
    current trial stops if its objective is worse than the median of those averages.
    Finished trials too short to reach the epoch do not count; fewer than 3 give no verdict.
    """
    step = len(curve)
    if step == 0:
        return False
    averages = sorted(sum(c[:step]) / step for c in finished if len(c) >= step)
    if len(averages) < 3:
        return False
    mid = len(averages) // 2
    median = averages[mid] if len(averages) % 2 else (averages[mid - 1] + averages[mid]) / 2
    value = curve[-1]
    return value < median if maximize else value > median


def make_strategy(config: dict, static_hyperparameters: dict[str, str]) -> Strategy:
    """The strategy of a ``HyperParameterTuningJobConfig`` (or :class:`RangeError`)."""
    ranges = parse_ranges(config.get("ParameterRanges"))
    objective = config.get("HyperParameterTuningJobObjective") or {}
    maximize = objective.get("Type", "Maximize") == "Maximize"
    seed = config.get("RandomSeed")
    strategy = config["Strategy"]
    if strategy == "Random":
        return RandomStrategy(ranges, maximize, seed)
    if strategy == "Bayesian":
        return BayesianStrategy(ranges, maximize, seed)
    if strategy == "Grid":
        return GridStrategy(ranges, maximize, seed)
    if strategy == "Hyperband":
        hb = (config.get("StrategyConfig") or {}).get("HyperbandStrategyConfig") or {}
        min_resource, max_resource = hyperband_resources(hb, static_hyperparameters)
        return HyperbandStrategy(ranges, maximize, seed, min_resource, max_resource)
    raise RangeError(f"Unknown tuning strategy {strategy!r}.")


def hyperband_resources(hb: dict, static: dict[str, str]) -> tuple[int, int]:
    """``MinResource`` and ``MaxResource`` (inferred from the epochs hyperparameters as AWS does)."""
    min_resource = int(hb.get("MinResource") or 1)
    max_resource = hb.get("MaxResource")
    if max_resource is None:
        for key in HYPERBAND_EPOCH_KEYS:
            if key in static:
                try:
                    max_resource = int(float(static[key]))
                except ValueError:
                    continue
                break
    if max_resource is None:
        raise RangeError("HyperbandStrategyConfig: MaxResource is not specified and cannot be "
                         f"inferred from the static hyperparameters {list(HYPERBAND_EPOCH_KEYS)}.")
    max_resource = int(max_resource)
    if not 1 <= min_resource <= max_resource <= HYPERBAND_MAX_RESOURCE:
        raise RangeError(f"HyperbandStrategyConfig: need 1 <= MinResource ({min_resource}) <= "
                         f"MaxResource ({max_resource}) <= {HYPERBAND_MAX_RESOURCE}.")
    return min_resource, max_resource
