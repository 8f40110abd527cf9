"""The cell key method's ptable: the properties documented in docs/privacy.md."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from everyfamily.privacy.cellkey import build_ptable, cell_keys, record_keys

PT = build_ptable()


def test_zero_is_released_as_zero_for_every_key() -> None:
    assert PT.distribution(0) == {0: 1.0}


@pytest.mark.parametrize("n", range(1, 8))
def test_small_counts_become_zero_or_eight_unbiased(n: int) -> None:
    dist = PT.distribution(n)
    assert set(dist) == {-n, 8 - n}
    # P(8) = n / 8, quantised to 1/4096
    assert dist[8 - n] == pytest.approx(n / 8, abs=1 / 4096)
    mean = sum(d * p for d, p in dist.items())
    assert abs(mean) <= 8 / 4096


@pytest.mark.parametrize("n", [11, 12, 50, 1000])
def test_large_counts_mean_zero_max_three_variance(n: int) -> None:
    dist = PT.distribution(n)
    assert max(abs(d) for d in dist) == 3 == PT.max_error
    assert sum(d * p for d, p in dist.items()) == 0.0  # exactly symmetric
    assert dist[0] == pytest.approx(0.5, abs=1 / 4096)
    # triangular weights 3:2:1 on each side share 0.5: variance 2*(3*1+2*4+1*9)/24 = 5/3
    var = sum(d * d * p for d, p in dist.items())
    assert var == pytest.approx(5 / 3, abs=0.01)


def test_near_the_floor_the_range_narrows_and_never_enters_one_to_seven() -> None:
    assert PT.distribution(8) == {0: 1.0}
    assert set(PT.distribution(9)) == {-1, 0, 1}
    counts = np.repeat(np.arange(0, 40), PT.modulus)
    keys = np.tile(np.arange(PT.modulus), 40)
    out = PT.perturb(counts, keys)
    assert not np.any((out >= 1) & (out <= 7))
    assert out.min() == 0
    assert np.array_equal(out[counts == 0], np.zeros(PT.modulus))


def test_same_children_same_value_in_two_tables() -> None:
    ids = [f"child-{i}" for i in range(300)]
    rng = np.random.default_rng(5)
    recs = pd.DataFrame(
        {
            "record_key": record_keys(ids, b"secret"),
            "ward": rng.choice(["W1", "W2"], size=300),
            "sex": rng.choice(["f", "m"], size=300),
        }
    )
    # table 1: ward x sex; table 2: the same cells reached via a different grouping order
    t1 = cell_keys(recs, ["ward", "sex"])
    t2 = cell_keys(recs.iloc[::-1], ["sex", "ward"])
    m = t1.merge(t2, on=["ward", "sex"], suffixes=("_a", "_b"))
    assert (m["cell_key_a"] == m["cell_key_b"]).all()
    a = PT.perturb(m["n_a"], m["cell_key_a"])
    b = PT.perturb(m["n_b"], m["cell_key_b"])
    assert np.array_equal(a, b)
    # the cell key is the planted sum of record keys mod N
    first = recs[(recs["ward"] == "W1") & (recs["sex"] == "f")]
    assert t1.iloc[0]["cell_key"] == int(first["record_key"].sum()) % 4096


def test_record_keys_are_keyed_deterministic_and_roughly_uniform() -> None:
    ids = [str(i) for i in range(20000)]
    k1, k2, k3 = record_keys(ids, b"a"), record_keys(ids, b"a"), record_keys(ids, b"b")
    assert np.array_equal(k1, k2) and not np.array_equal(k1, k3)
    assert k1.min() >= 0 and k1.max() < 4096
    hist = np.bincount(k1 // 256, minlength=16)  # 16 bins of 1250 expected
    assert hist.min() > 1050 and hist.max() < 1450
