"""Pictures over the micrograph or tomogram: outlines, kept/discarded particles, classes,
heat maps, planes of a volume (matplotlib, no file I/O)."""

import numpy as np

#: Outline colours (RGB): segmentation yellow, ground truth cyan.
PRED_COLOR = (255, 214, 0)
TRUTH_COLOR = (0, 200, 255)
RED = (230, 40, 40)
KEEP_COLOR = (40, 220, 60)
DISCARD_COLOR = (255, 50, 50)


def outline_overlay(image, labels, truth=None, *, title=None, dpi=120):
    """The micrograph with object outlines drawn over it, at full resolution.

    Parameters
    ----------
    image : (M, N) ndarray
        Grey-level image (displayed between its 0.5 and 99.5 percentiles).
    labels : (M, N) ndarray of int
        Segmentation; its outlines are drawn in yellow.
    truth : (M, N) ndarray of int, optional
        Ground truth; outlines in cyan, drawn first (yellow wins where they
        coincide).
    title : str, optional
        Text drawn in the top-left corner.
    dpi : int, optional
        Figure resolution; the figure is sized so that one image pixel is one
        pixel of a PNG saved at this dpi.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .._validate import check_2d_array, check_labels

    image = check_2d_array(image, "image", allow_bool=False)
    labels = check_labels(labels, "labels")
    layers = [(labels, PRED_COLOR)]
    if truth is not None:
        truth = check_labels(truth, "truth")
        if truth.shape != image.shape:
            raise ValueError(f"truth shape {truth.shape} differs from image shape {image.shape}")
        layers.insert(0, (truth, TRUTH_COLOR))
    if labels.shape != image.shape:
        raise ValueError(f"labels shape {labels.shape} differs from image shape {image.shape}")
    return _draw_outlines(image, layers, title, dpi)


def filter_overlay(image, labels, kept, *, title=None, dpi=120):
    """The micrograph with kept particles outlined in green, discarded in red.

    Parameters
    ----------
    image : (M, N) ndarray
    labels : (M, N) ndarray of int
        All particles.
    kept : iterable of int
        The labels kept by the filters.
    title : str, optional
    dpi : int, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .._validate import check_2d_array, check_labels

    image = check_2d_array(image, "image", allow_bool=False)
    labels = check_labels(labels, "labels")
    if labels.shape != image.shape:
        raise ValueError(f"labels shape {labels.shape} differs from image shape {image.shape}")
    lut = np.zeros(int(labels.max()) + 1, bool)
    kept = np.asarray(list(kept), np.int64)
    lut[kept[(kept > 0) & (kept < lut.size)]] = True
    keep = lut[labels]
    return _draw_outlines(image, [(np.where(keep, 0, labels), DISCARD_COLOR),
                                  (np.where(keep, labels, 0), KEEP_COLOR)], title, dpi)


def class_colours(n):
    """``n`` distinct RGB colours (uint8, ``(n, 3)``) for class indices: well-separated hues
    at two lightness levels, so neighbouring classes never look alike."""
    import colorsys

    hues = (np.arange(n) * 0.618034) % 1.0              # golden-ratio steps around the circle
    return np.array([[round(255 * v) for v in colorsys.hsv_to_rgb(h, 0.75, 0.95 - 0.3 * (i % 2))]
                     for i, h in enumerate(hues)], np.uint8).reshape(n, 3)


def class_overlay(image, classes, names, *, title=None, alpha=0.45, dpi=120):
    """The micrograph with each pixel tinted by its class (:func:`class_colours`), pixels
    of no class (255: a data bar) left grey, and a legend of the classes.

    Parameters
    ----------
    image : (M, N) ndarray
    classes : (M, N) ndarray of int
        Class indices into ``names``, or 255.
    names : sequence of str
    title : str, optional
    alpha : float, optional
        Opacity of the tint.
    dpi : int, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.patches import Patch

    from .._validate import check_2d_array

    image = check_2d_array(image, "image", allow_bool=False)
    classes = np.asarray(classes)
    if classes.shape != image.shape:
        raise ValueError(f"classes shape {classes.shape} differs from image shape {image.shape}")
    names = list(names)
    colours = class_colours(len(names)).astype(np.float64)
    fig = _draw_outlines(image, [], title, dpi)
    ax = fig.axes[0]
    rgb = ax.images[0].get_array().astype(np.float64)
    known = classes < len(names)
    tint = colours[np.where(known, classes, 0)]
    rgb[known] = (1 - alpha) * rgb[known] + alpha * tint[known]
    ax.images[0].set_data(rgb.astype(np.uint8))
    ax.legend(handles=[Patch(color=c / 255, label=n) for c, n in zip(colours, names)],
              loc="lower right", fontsize=7, framealpha=0.7)
    return fig


def heat_overlay(image, heat, *, title=None, alpha=0.5, dpi=120):
    """The micrograph with a heat map in [0, 1] (Grad-CAM) over it: blue least, red most
    important ("jet", as the WAE-Net paper), and a colour bar.

    Parameters
    ----------
    image : (M, N) ndarray
    heat : (M, N) ndarray of float, values in [0, 1]
    title : str, optional
    alpha : float, optional
        Opacity of the heat map.
    dpi : int, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib import colormaps

    from .._validate import check_2d_array

    image = check_2d_array(image, "image", allow_bool=False)
    heat = check_2d_array(heat, "heat", allow_bool=False)
    if heat.shape != image.shape:
        raise ValueError(f"heat shape {heat.shape} differs from image shape {image.shape}")
    if not (np.isfinite(heat).all() and heat.min() >= 0 and heat.max() <= 1):
        raise ValueError("heat must hold values in [0, 1]")
    fig = _draw_outlines(image, [], title, dpi)
    ax = fig.axes[0]
    grey = ax.images[0].get_array().astype(np.float64)
    jet = colormaps["jet"](heat)[..., :3] * 255
    ax.images[0].set_data(((1 - alpha) * grey + alpha * jet).astype(np.uint8))
    from matplotlib.cm import ScalarMappable
    bar = fig.add_axes((0.93, 0.1, 0.02, 0.35))
    fig.colorbar(ScalarMappable(cmap="jet"), cax=bar)
    bar.tick_params(labelsize=6, colors="white")
    return fig


def _draw_outlines(image, layers, title, dpi):
    """Grey image with the inner outlines of each (labels, colour) layer, in order."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from skimage.segmentation import find_boundaries

    lo, hi = np.percentile(image, [0.5, 99.5])
    grey = np.clip((image.astype(np.float64) - lo) / ((hi - lo) or 1.0), 0, 1)
    rgb = np.repeat((grey * 255).astype(np.uint8)[..., None], 3, axis=2)
    for lab, color in layers:
        rgb[find_boundaries(lab, mode="inner")] = color
    h, w = image.shape
    fig = Figure(figsize=(w / dpi, h / dpi), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(rgb, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.text(4, 4, title, color="white", fontsize=8, va="top",
                bbox={"facecolor": "black", "alpha": 0.6, "pad": 2, "linewidth": 0})
    return fig


def volume_slices(volume, labels, truth=None, *, planes=None, title=None, dpi=100):
    """Planes of a tomogram side by side with the vesicle outlines (yellow; truth cyan).

    Parameters
    ----------
    volume : (Z, Y, X) ndarray
    labels : (Z, Y, X) ndarray of int
    truth : (Z, Y, X) ndarray of int, optional
    planes : sequence of int, optional
        The z planes to show (default at 30 %, 50 % and 70 % of the depth).
    title : str, optional
    dpi : int, optional

    Returns
    -------
    matplotlib.figure.Figure
        One voxel is one pixel of a PNG saved at ``dpi`` (a whole number of pixels for
        tomograms under 384 voxels high; every n-th voxel of planes over 1024 voxels).
    """
    from .._validate import check_array_like, check_label_array

    # only the shown planes are read: a memory-mapped tomogram and zarr labels stay on disk
    volume = check_array_like(volume, "volume", ndims=(3,), allow_bool=False)
    if isinstance(labels, np.ndarray) or not hasattr(labels, "shape"):
        labels = check_label_array(labels, "labels", ndims=(3,))
    if tuple(labels.shape) != tuple(volume.shape):
        raise ValueError(f"labels shape {labels.shape} differs from volume shape {volume.shape}")
    if truth is not None:
        truth = check_label_array(truth, "truth", ndims=(3,))
        if truth.shape != volume.shape:
            raise ValueError(f"truth shape {truth.shape} differs from volume shape {volume.shape}")
    nz = volume.shape[0]
    planes = [int(round(f * (nz - 1))) for f in (0.3, 0.5, 0.7)] if planes is None else \
        [int(z) for z in planes]
    if not planes or any(not 0 <= z < nz for z in planes):
        raise ValueError(f"planes must be z indices in [0, {nz}), got {planes!r}")
    # large planes are shown at every n-th voxel, at most 1024 high: an overview, and
    # matplotlib's drawing of a full 2048^2 strip of three planes costs over a gigabyte
    step = max(1, int(np.ceil(max(volume.shape[1:]) / 1024)))
    view = (slice(None, None, step),) * 2
    height = len(range(0, volume.shape[1], step))
    gap = np.full((height, 4), np.nan)
    image = np.concatenate(sum(([np.asarray(volume[z][view], float), gap] for z in planes),
                               [])[:-1], 1)
    image = np.where(np.isnan(image), np.nanmedian(image), image)
    zero = np.zeros((height, 4), np.int64)

    def strip(lab):
        return np.concatenate(sum(([np.asarray(lab[z][view], np.int64), zero] for z in planes),
                                  [])[:-1], 1)

    layers = [(strip(labels), PRED_COLOR)]
    if truth is not None:
        layers.insert(0, (strip(truth), TRUTH_COLOR))
    text = (title + " | " if title else "") + "z = " + ", ".join(map(str, planes))
    # small tomograms are enlarged (whole voxels) so that vesicles can be seen
    zoom = max(1, int(np.ceil(384 / volume.shape[1])))
    if zoom > 1:
        image = np.kron(image, np.ones((zoom, zoom)))
        layers = [(np.kron(lab, np.ones((zoom, zoom), np.int64)), c) for lab, c in layers]
    return _draw_outlines(image, layers, text, dpi)
