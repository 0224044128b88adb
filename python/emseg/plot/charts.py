"""Charts: size histograms, training curves, GAN losses, the synthesis sheet, radial
profiles, sample comparisons (matplotlib, no file I/O)."""

import numpy as np

from .overlays import PRED_COLOR, RED

def size_histogram(table, column="MinFeret", *, unit=None, bins="auto", title=None):
    """Histogram of one measurement column, with the mean and D10/D50/D90 marked.

    Parameters
    ----------
    table : pandas.DataFrame
        Table from :func:`emseg.measure.measure`.
    column : str, optional
        Column to plot.
    unit : str, optional
        Axis unit; defaults to ``table.attrs["unit"]`` for lengths, none for ratios and
        angles (:data:`emseg.measure.particles.UNITLESS_COLUMNS`).
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

    from ..measure import summarize

    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    if column not in table.columns:
        raise ValueError(f"column {column!r} is not in the table")
    values = table[column].to_numpy(np.float64)
    values = values[np.isfinite(values)]
    from ..measure.particles import UNITLESS_COLUMNS

    if not unit:
        unit = "" if column in UNITLESS_COLUMNS else table.attrs.get("unit", "")
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


def training_curve(history, *, title="Training"):
    """Loss and validation loss per epoch (log scale), learning rate on a second axis.

    Parameters
    ----------
    history : list of dict
        Entries with ``epoch``, ``loss``, ``val_loss`` and ``learning_rate``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    if not history:
        raise ValueError("history is empty")
    epochs = [h["epoch"] for h in history]
    fig = Figure(figsize=(6, 4), dpi=100)
    ax = fig.subplots()
    ax.plot(epochs, [h["loss"] for h in history], "o-", label="training loss", color="tab:blue")
    ax.plot(epochs, [h["val_loss"] for h in history], "o-", label="validation loss", color="tab:orange")
    best = min(range(len(history)), key=lambda i: history[i]["val_loss"])
    ax.axvline(epochs[best], color="grey", ls=":", label=f"best (epoch {epochs[best]})")
    ax.set_yscale("log")
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    lr = ax.twinx()
    lr.plot(epochs, [h["learning_rate"] for h in history], color="tab:green", lw=1, ls="--")
    lr.set_yscale("log")
    lr.set_ylabel("learning rate", color="tab:green")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def gan_losses(histories):
    """The GAN losses per epoch, one panel per network.

    Parameters
    ----------
    histories : dict of str -> pandas.DataFrame
        Per network (e.g. "shapes", "cyclegan"), its ``losses.csv``: an ``epoch`` column
        and one column per loss (``seconds`` and ``learning_rate`` are not drawn).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    if not histories:
        raise ValueError("histories is empty")
    fig = Figure(figsize=(5 * len(histories), 3.6), dpi=100)
    axes = fig.subplots(1, len(histories), squeeze=False)[0]
    for ax, (name, table) in zip(axes, histories.items()):
        for col in table.columns:
            if col not in ("epoch", "seconds", "learning_rate"):
                ax.plot(table["epoch"], table[col], "-", marker="o" if len(table) < 30 else None,
                        label=col.replace("_", " "))
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def synthesis_sheet(shapes, pairs, example=None):
    """The synthetic training data at a glance: generated particle shapes (top row), then
    per pair its assembled mask, the fake image, and the image with the kept particles
    outlined (yellow) and the dropped artifacts (red).

    Parameters
    ----------
    shapes : (K, s, s) ndarray of bool
    pairs : sequence of (mask labels, fake image, kept labels)
    example : 2D ndarray, optional
        A real image, shown beside the shapes for comparison.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure
    from skimage.segmentation import find_boundaries

    pairs = list(pairs)
    if not len(shapes) and not pairs:
        raise ValueError("nothing to show")
    rows = 1 + len(pairs)
    fig = Figure(figsize=(9, 3 * rows), dpi=100)
    axes = fig.subplots(rows, 3, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    k = min(len(shapes), 16)
    if k:
        side = int(np.ceil(np.sqrt(k)))
        s = shapes.shape[1]
        grid = np.ones((side * (s + 2), side * (s + 2)))
        for i in range(k):
            r, c = divmod(i, side)
            grid[r * (s + 2):r * (s + 2) + s, c * (s + 2):c * (s + 2) + s] = ~shapes[i]
        axes[0, 0].imshow(grid, cmap="gray")
        axes[0, 0].set_title("generated shapes", fontsize=9)
    if example is not None:
        axes[0, 1].imshow(example, cmap="gray")
        axes[0, 1].set_title("a real image", fontsize=9)
    for row, (mask, image, kept) in enumerate(pairs, start=1):
        axes[row, 0].imshow(mask > 0, cmap="gray")
        axes[row, 0].set_title(f"mask ({int(mask.max())} particles)", fontsize=9)
        axes[row, 1].imshow(image, cmap="gray")
        axes[row, 1].set_title("fake image", fontsize=9)
        rgb = np.repeat(np.asarray(image, np.uint8)[..., None], 3, axis=2)
        rgb[find_boundaries(np.where(kept > 0, 0, mask), mode="inner")] = RED
        rgb[find_boundaries(kept, mode="inner")] = PRED_COLOR
        axes[row, 2].imshow(rgb)
        axes[row, 2].set_title(f"pair: {int(kept.max())} kept, "
                               f"{int(mask.max()) - int(kept.max())} dropped", fontsize=9)
    fig.tight_layout()
    return fig


def radial_profiles(spheres, *, count=6, title=None):
    """Radial profiles of a few refined vesicles (smallest to largest) with what the
    refinement read off them: membrane centre, the search range up to the outer fringe, and
    the radius (outer membrane edge).

    Parameters
    ----------
    spheres : emseg.segment.spheres.Spheres
    count : int, optional
        Vesicles shown (spread evenly over the radii).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    valid = [i for i, f in enumerate(spheres.fits) if f.valid]
    order = sorted(valid, key=lambda i: spheres.fits[i].radius)
    if len(order) > count:
        order = [order[int(round(k))] for k in np.linspace(0, len(order) - 1, count)]
    cols = max(1, min(3, len(order)))
    rows = max(1, int(np.ceil(len(order) / cols)))
    fig = Figure(figsize=(4 * cols, 3 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.ravel()[len(order):]:
        ax.axis("off")
    if not order:
        axes[0, 0].text(0.5, 0.5, "no refined vesicle", ha="center", va="center")
    for ax, i in zip(axes.ravel(), order):
        p, f = spheres.profiles[i], spheres.fits[i]
        keep = np.isfinite(p.mean) & (p.distance <= f.fringe + 0.5 * f.radius)
        ax.plot(p.distance[keep], p.mean[keep], color="0.2", lw=1.2)
        ax.axvspan(f.membrane_centre, f.fringe, color="tab:blue", alpha=0.15,
                   label="search range")
        ax.axvline(f.membrane_centre, color="tab:blue", ls="--", lw=1, label="membrane centre")
        ax.axvline(f.radius, color="tab:red", lw=1.5, label=f"radius {f.radius:.1f} nm")
        ax.set_title(f"vesicle {i + 1}: t = {f.thickness:.1f} nm", fontsize=9)
        ax.set_xlabel("distance from centre (nm)")
        ax.set_ylabel("mean grey value")
        ax.legend(fontsize=7, loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def sample_comparison(comparison, column, *, unit=None, title=None):
    """Samples' distributions of one measurement side by side: overlaid histograms on the
    same bins, and box plots with each median's bootstrap confidence interval.

    Parameters
    ----------
    comparison : emseg.stats.SampleComparison
    column : str
        The measurement's name (axis label).
    unit : str, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib
    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    from ..stats import SampleComparison

    if not isinstance(comparison, SampleComparison):
        raise TypeError(f"comparison must be a SampleComparison, got {type(comparison).__name__}")
    names = list(comparison.values)
    data = [comparison.values[n] for n in names]
    label = f"{column} ({unit})" if unit else column
    fig = Figure(figsize=(10, 4))
    ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    edges = np.histogram_bin_edges(np.concatenate(data), bins="auto")
    colors = ["#4a7fb5", "#d9822b", "#3a9a5b", "#b03a6a", "#7a5cb5", "#6b6b6b"]
    for i, (name, v) in enumerate(zip(names, data)):
        ax.hist(v, bins=edges, density=True, histtype="stepfilled", alpha=0.35,
                color=colors[i % len(colors)], label=f"{name} (n = {v.size})")
        ax.hist(v, bins=edges, density=True, histtype="step", color=colors[i % len(colors)])
    ax.set_xlabel(label)
    ax.set_ylabel("Density")
    ax.legend(frameon=False, fontsize=8)
    s = comparison.summary.set_index("Sample")
    ci = [(s.loc[n, "CI low"], s.loc[n, "CI high"]) for n in names]
    box = bx.boxplot(data, notch=True, conf_intervals=ci, usermedians=s.loc[names, "Median"],
                     patch_artist=True, showfliers=True, flierprops={"markersize": 2})
    for i, patch in enumerate(box["boxes"]):
        patch.set_facecolor(colors[i % len(colors)])
        patch.set_alpha(0.5)
    bx.set_xticks(range(1, len(names) + 1), names)
    bx.set_ylabel(label)
    t = comparison.tests
    if len(t) == 1:
        bx.set_title(f"Wilcoxon p = {t['p Wilcoxon'][0]:.3g}, KS p = {t['p KS'][0]:.3g}",
                     fontsize=9)
    fig.suptitle(title or f"{column}: medians with their {comparison.confidence:.0%} bootstrap "
                 "confidence intervals (notches)", fontsize=10)
    fig.tight_layout()
    return fig
