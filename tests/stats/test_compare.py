"""Comparing samples: bootstrap medians, rank-sum and KS tests, Holm's adjustment."""

import numpy as np
import pytest
from scipy.stats import ks_2samp, mannwhitneyu

from emseg.stats import bootstrap_median, compare_samples
from emseg.stats.compare import holm


def test_bootstrap_interval_covers_the_true_median_as_often_as_it_says():
    rng = np.random.default_rng(0)
    hits = 0
    for i in range(200):
        v = rng.lognormal(np.log(80), 0.3, 60)              # vesicle diameters, median 80 nm
        med, lo, hi = bootstrap_median(v, n_boot=400, seed=i)
        assert lo <= med <= hi and med == pytest.approx(np.median(v))
        hits += lo <= 80 <= hi
    assert 0.88 <= hits / 200 <= 0.99                      # 95 % intervals, 200 samples
    assert all(np.isnan(bootstrap_median([np.nan, np.nan])))
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_median([1, 2, 3], confidence=1.5)
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_median([1, 2, 3], n_boot=5)


def test_compare_samples_tells_shifted_from_alike_and_matches_scipy():
    rng = np.random.default_rng(1)
    a = rng.normal(80, 15, 150)
    same = rng.normal(80, 15, 140)
    larger = rng.normal(95, 15, 160)
    c = compare_samples({"A": a, "A again": same, "B": np.append(larger, np.nan)})
    assert list(c.summary.Sample) == ["A", "A again", "B"]
    assert c.summary.n.tolist() == [150, 140, 160]         # NaN dropped
    t = c.tests.set_index(["A", "B"])
    assert t.loc[("A", "B"), "p Wilcoxon"] < 1e-6 and t.loc[("A", "A again"), "p Wilcoxon"] > 0.01
    assert t.loc[("A", "B"), "Median difference"] == pytest.approx(np.median(larger)
                                                                   - np.median(a))
    assert t.loc[("A", "B"), "p Wilcoxon"] == pytest.approx(
        mannwhitneyu(a, larger, alternative="two-sided").pvalue)
    assert t.loc[("A", "B"), "p KS"] == pytest.approx(ks_2samp(a, larger).pvalue)
    assert (c.tests["p Wilcoxon (Holm)"] >= c.tests["p Wilcoxon"]).all()
    with pytest.raises(ValueError, match="at least two"):
        compare_samples({"A": a})
    with pytest.raises(ValueError, match="'B' has 1 value"):
        compare_samples({"A": a, "B": [3.0]})


def test_holm_by_hand():
    # sorted 0.01, 0.02, 0.04 -> 3 x 0.01, 2 x 0.02, 1 x 0.04, made monotone
    np.testing.assert_allclose(holm([0.04, 0.01, 0.02]), [0.04, 0.03, 0.04])
    np.testing.assert_allclose(holm([0.5, 0.9]), [1.0, 1.0])
