"""Synaptic vesicles in tomograms: the global threshold chosen by the darkness of the mask's
shell (CryoVesNet), searched where a saturating network puts its answer.

CryoVesNet thresholds the network's probability at the value whose mask has the darkest
shell (mask minus its erosion): vesicle membranes are dark in cryo-ET, so the mask whose
boundary runs along the membranes has the darkest boundary. Its search grid, 0.80 to 0.99
in steps of 0.01, ends where a saturating network's boundary only begins: run on a tomogram
its optimum is the grid's last value. Here the candidates are spread evenly on the logit of
the probability (``log(p / (1 - p))``), from 0.5 to ``1 - 1e-6`` by default, so the search is
as fine at 0.9999 as at 0.6 and finds an optimum inside the range.
"""

import numpy as np
from scipy import ndimage as ndi

from .._validate import check_nd_array

__all__ = ["logit_thresholds", "shell_intensity", "shell_threshold"]


def logit_thresholds(low=0.5, high=1 - 1e-6, n=60):
    """``n`` probability thresholds evenly spaced on the logit scale from ``low`` to ``high``."""
    if not 0 < low < high < 1:
        raise ValueError(f"need 0 < low < high < 1, got low={low}, high={high}")
    if not (isinstance(n, (int, np.integer)) and n >= 2):
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    lo, hi = np.log(low / (1 - low)), np.log(high / (1 - high))
    return 1.0 / (1.0 + np.exp(-np.linspace(lo, hi, n)))


def shell_intensity(mask, volume, *, erosion=1):
    """Mean of ``volume`` over the shell of ``mask`` (the mask minus its erosion by ``erosion``
    voxels, 6-connected) and the shell's voxel count; NaN for an empty shell."""
    shell = mask & ~ndi.binary_erosion(mask, iterations=int(erosion))
    count = int(shell.sum())
    return (float(volume[shell].mean()) if count else float("nan")), count


def shell_threshold(probability, volume, *, thresholds=None, erosion=1, min_voxels=27):
    """The probability threshold whose mask has the darkest shell in ``volume``.

    Parameters
    ----------
    probability : (Z, Y, X) or (M, N) ndarray
        The network's vesicle probability, on the grid of ``volume``.
    volume : ndarray, same shape
        The tomogram (dense matter dark, as cryo-ET shows it).
    thresholds : sequence of float, optional
        Candidates (default :func:`logit_thresholds`: 0.5 to 1 - 1e-6, even in the logit).
    erosion : int, optional
        Shell thickness in voxels.
    min_voxels : int, optional
        Candidates whose shell has fewer voxels are not considered (a few stray voxels
        would otherwise win by chance).

    Returns
    -------
    threshold : float
        The candidate with the darkest shell.
    table : (K, 3) ndarray
        Every candidate's threshold, shell mean and shell voxel count.

    Raises
    ------
    ValueError
        For mismatched shapes, or when no candidate leaves a shell of ``min_voxels``.
    """
    probability = check_nd_array(probability, "probability", ndims=(2, 3))
    volume = check_nd_array(volume, "volume", ndims=(2, 3))
    if probability.shape != volume.shape:
        raise ValueError(f"probability {probability.shape} and volume {volume.shape} differ in shape")
    if not (isinstance(erosion, (int, np.integer)) and erosion >= 1):
        raise ValueError(f"erosion must be an integer >= 1, got {erosion!r}")
    candidates = logit_thresholds() if thresholds is None else np.asarray(thresholds, float)
    if candidates.ndim != 1 or not candidates.size or np.any((candidates <= 0) | (candidates >= 1)):
        raise ValueError("thresholds must be a non-empty sequence of values in (0, 1)")
    rows = []
    for t in candidates:
        mean, count = shell_intensity(probability > t, volume, erosion=erosion)
        rows.append((float(t), mean, count))
    table = np.asarray(rows, float)
    usable = table[:, 2] >= min_voxels
    if not usable.any():
        raise ValueError(f"no threshold leaves a shell of {min_voxels} voxels: the probability map "
                         "holds no vesicles")
    best = np.flatnonzero(usable)[np.nanargmin(table[usable, 1])]
    return float(table[best, 0]), table
