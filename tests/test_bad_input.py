"""Bad input, drawn by Hypothesis, gets a TypeError or ValueError naming the argument, everywhere.

The probes (``probes.py``) list the public functions and classes, a valid call of each, and the
kind of every argument probed; for each argument Hypothesis draws wrong values of many sorts (bools
for ints, NaN and infinities, negative and zero counts, strings, ``None``, lists for tensors) and
the test asserts a clear error. ``benchmarks/bad_input_probe.py`` counts the same probes' outcomes.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from probes import PROBES, outcome

text = st.text(max_size=4)
# every valid value of a "choice" argument of the probes (paths, reductions, optimisers, norms, ...)
VALID_CHOICES = {"mean", "sum", "none", "loop", "vmap", "auto", "sgd", "adam", "batch", "running", "native",
                 "primitive", "reinforce", "lvc"}
BAD = {
    "pos_int": st.one_of(st.integers(max_value=0), st.booleans(), st.floats(allow_nan=True), text),
    "nonneg_int": st.one_of(st.integers(max_value=-1), st.booleans(), st.floats(allow_nan=True), text),
    "pos_float": st.one_of(st.floats(max_value=0.0), st.just(math.nan), st.just(math.inf), st.booleans(), text),
    "nonneg_float": st.one_of(st.floats(max_value=-1e-9), st.just(math.nan), st.just(-math.inf), st.booleans(), text),
    "prob": st.one_of(st.floats(min_value=1.000001), st.floats(max_value=-1e-9), st.just(math.nan), st.booleans(),
                      text),
    "flag": st.one_of(st.integers(), st.floats(), text, st.none()),
    "generator": st.one_of(st.integers(), st.floats(), text),
    "choice": st.one_of(st.text(min_size=1, max_size=12).filter(lambda s: s not in VALID_CHOICES),
                        st.integers().filter(lambda i: i not in (1, 2, 6)), st.none()),
    "tensor": st.one_of(st.lists(st.floats(), max_size=3), st.floats(), st.none(), text),
    "module": st.one_of(text, st.integers(), st.none()),
    "callable": st.one_of(text, st.integers(), st.none()),
}
CASES = [(probe, param, kind) for probe in PROBES for param, kind in probe.params.items()]


@pytest.mark.parametrize(("probe", "param", "kind"), CASES, ids=[f"{p.name}-{a}" for p, a, _ in CASES])
def test_bad_values_are_refused_naming_the_argument(probe, param, kind):
    torch.set_num_threads(1)

    @settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(value=BAD[kind])
    def check(value):
        result, message = outcome(probe, param, value)
        assert result == "clear", f"{probe.name}({param}={value!r}): {result} {message}"

    check()
