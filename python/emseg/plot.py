"""Figures people look at instead of reading tables (matplotlib, no file I/O)."""

import numpy as np

__all__ = ["size_histogram"]


def size_histogram(table, column="MinFeret", *, unit=None, bins="auto", title=None):
    """Histogram of one measurement column, with the mean and D10/D50/D90 marked.

    Parameters
    ----------
    table : pandas.DataFrame
        Table from :func:`emseg.measure.measure`.
    column : str, optional
        Column to plot.
    unit : str, optional
        Axis unit; defaults to ``table.attrs["unit"]``.
    bins : int or str, optional
        Passed to :func:`numpy.histogram_bin_edges`.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib
    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    from .measure import summarize

    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    if column not in table.columns:
        raise ValueError(f"column {column!r} is not in the table")
    values = table[column].to_numpy(np.float64)
    values = values[np.isfinite(values)]
    unit = unit or table.attrs.get("unit", "")
    s = summarize(table, column).iloc[0]
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    if values.size:
        ax.hist(values, bins=np.histogram_bin_edges(values, bins=bins), color="#4a7fb5",
                edgecolor="white")
        for name, style in (("D10", ":"), ("D50", "--"), ("D90", "-.")):
            ax.axvline(s[name], color="k", linestyle=style, linewidth=1, label=name)
        ax.axvline(s["mean"], color="#c0392b", linewidth=1.5, label="mean")
        ax.legend(frameon=False, fontsize=8)
    ax.set_xlabel(f"{column} ({unit})" if unit else column)
    ax.set_ylabel("Count")
    ax.set_title(title or f"{column}: n = {int(s['count'])}, mean = {s['mean']:.4g}, "
                 f"D10/D50/D90 = {s['D10']:.3g}/{s['D50']:.3g}/{s['D90']:.3g}", fontsize=9)
    fig.tight_layout()
    return fig
