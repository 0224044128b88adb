"""emseg.plot: the MinFeret histogram."""

import numpy as np
import pandas as pd
import pytest

from emseg.plot import size_histogram


def test_histogram_counts_every_particle():
    t = pd.DataFrame({"MinFeret": np.r_[np.arange(1.0, 31.0), np.nan]})
    t.attrs["unit"] = "nm"
    fig = size_histogram(t, bins=5)
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 5 and sum(heights) == 30
    assert ax.get_xlabel() == "MinFeret (nm)"
    assert "n = 30" in ax.get_title()


def test_histogram_rejects_unknown_column():
    with pytest.raises(ValueError, match="column 'Nope'"):
        size_histogram(pd.DataFrame({"A": [1.0]}), "Nope")
    with pytest.raises(TypeError, match="table must be"):
        size_histogram([1.0, 2.0])
