"""Outliers among refined vesicles: features of their radial profiles and the Mahalanobis
distance (CryoVesNet, paper 001, "Outlier detection and refinement")."""

import numpy as np

__all__ = ["mahalanobis_pvalues", "profile_correlations"]


def profile_correlations(profiles, fits):
    """Pearson correlation of every profile with the mean profile, aligned at the radius
    (distance minus radius, from -10 nm or the smallest radius to +6 nm)."""
    valid = [f.valid for f in fits]
    if not any(valid):
        return np.full(len(fits), np.nan)
    r_min = min(f.radius for f, v in zip(fits, valid) if v)
    step = float(profiles[0].distance[1] - profiles[0].distance[0])
    s = np.arange(-min(10.0, 0.8 * r_min), 6.0 + step / 2, step)
    rows = []
    for p, f in zip(profiles, fits):
        ok = np.isfinite(p.mean)
        if not f.valid or ok.sum() < 2:
            rows.append(np.full(len(s), np.nan))
        else:
            rows.append(np.interp(f.radius + s, p.distance[ok], p.mean[ok]))
    rows = np.asarray(rows)
    valid = np.asarray(valid)
    centred = rows - rows.mean(axis=1, keepdims=True)
    mean = np.nanmean(rows[valid], axis=0)
    mean = mean - mean.mean()
    norms = np.linalg.norm(centred, axis=1) * np.linalg.norm(mean)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(valid & (norms > 0), centred @ mean / norms, np.nan)
    return out


def mahalanobis_pvalues(features, *, reference=None, trim_p=0.01, rounds=2):
    """Squared Mahalanobis distances of feature vectors and their chi-squared p-values.

    Parameters
    ----------
    features : (n, k) ndarray
        One row per vesicle; rows with a NaN get NaN.
    reference : (n,) ndarray of bool, optional
        The rows the mean and covariance are estimated from (default all).
    trim_p : float, optional
        The mean and covariance are estimated again without the rows whose p-value is below
        this (``rounds`` times), so clear outliers do not set the scale they are judged by.
    rounds : int, optional

    Returns
    -------
    d2, p : (n,) ndarray
        ``D^2`` and ``1 - CDF_chi2(D^2, k)``.
    """
    from scipy.stats import chi2

    x = np.asarray(features, float)
    if x.ndim != 2:
        raise ValueError(f"features must be (n, k), got shape {x.shape}")
    n, k = x.shape
    d2 = np.full(n, np.nan)
    p = np.full(n, np.nan)
    good = np.all(np.isfinite(x), axis=1)
    if reference is None:
        reference = np.ones(n, bool)
    reference = np.asarray(reference, bool)
    if reference.shape != (n,):
        raise ValueError(f"reference must be one boolean per row ({n}), got shape "
                         f"{reference.shape}")
    use = good & reference
    if use.sum() <= k + 1:          # too few to estimate a covariance: nobody is an outlier
        d2[good], p[good] = 0.0, 1.0
        return d2, p
    for _ in range(int(rounds) + 1):
        mu = x[use].mean(axis=0)
        cov = np.cov(x[use], rowvar=False)
        inv = np.linalg.pinv(np.atleast_2d(cov))
        diff = x[good] - mu
        d2[good] = np.einsum("ij,jk,ik->i", diff, inv, diff)
        p[good] = chi2.sf(d2[good], k)
        trimmed = good & reference & (p >= trim_p)
        if trimmed.sum() <= k + 1 or np.array_equal(trimmed, use):
            break
        use = trimmed
    return d2, p
