"""All 2771 particles of the BAM TiO2 masks against ImageJ 1.53t's own results."""

import numpy as np
import pandas as pd
import tifffile
from skimage.measure import label

from emseg.measure import measure


def test_all_reference_particles_match_imagej(bam_dir):
    worst = {}
    n = 0
    masks = sorted((bam_dir / "masks").glob("*_m.tif"))
    assert len(masks) == 24
    for path in masks:
        ref = pd.read_csv(bam_dir / "imagej-reference" / f"{path.stem}.csv")
        labels = label(tifffile.imread(path) > 0, connectivity=1)
        table = measure(labels)
        assert len(table) == len(ref), path.name
        assert (table["Label"].to_numpy() == ref["Label"].to_numpy()).all()
        for col in ref.columns:
            ours, theirs = table[col].to_numpy(float), ref[col].to_numpy(float)
            rel = np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-300)
            rel[ours == theirs] = 0.0
            worst[col] = max(worst.get(col, 0.0), float(rel.max()))
        n += len(ref)
    assert n == 2771
    bad = {c: r for c, r in worst.items() if not r <= 1e-6}
    assert not bad, f"max relative error above 1e-6: {bad}"
    # The CSV prints 9 significant digits; anything looser would be a real bug.
    assert max(worst.values()) < 1e-8
