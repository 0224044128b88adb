"""segment_volume_large: a tomogram read in parts, maps and labels in zarr arrays, every step
by slab, chunk or box: the in-memory run's vesicles, thresholds, labels and spheres."""

import numpy as np
import pytest

from emseg.models.config import VESICLE_DEFAULTS
from emseg.segment import segment_volume
from emseg.segment.large_volume import segment_volume_large


def vesicle_tomogram(shape, centres, radii, seed=0):
    """Dark membranes (the outer 2 voxels of every ball), lumens a little brighter than the
    background: a pointwise 'network' can tell lumen from the rest."""
    zz, yy, xx = np.indices(shape)
    vol = np.ones(shape, np.float32)
    for c, r in zip(centres, radii):
        d = np.sqrt((zz - c[0]) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2)
        vol[d <= r - 2] = 1.2
        vol[(d > r - 2) & (d <= r)] = 0.2
    rng = np.random.default_rng(seed)
    return vol + rng.normal(0, 0.01, shape).astype(np.float32)


def lumen_network(batch):
    """Probability of lumen from the normalised intensity alone (works on any tiling)."""
    return (1 / (1 + np.exp(-60 * (batch - 0.9)))).astype(np.float32)


def meta(refine):
    return {"name": "pointwise", "task": "segmentation",
            "input": {"axes": "bzyxc", "divisor": 4}, "output": {"classes": ["vesicle"]},
            "pixel_size_nm": 2.0, "tile_size": 24, "halo": 4,
            "normalization": {"mode": "image", "low": 1.0, "high": 99.0}, "threshold": 0.4,
            "postprocess": {**VESICLE_DEFAULTS, "refine": refine, "min_diameter_nm": 8.0,
                            "refine_growth": 2}}


CENTRES = [(12, 12, 12), (12, 12, 40), (14, 40, 14), (28, 42, 44), (30, 14, 30),
           (14, 27, 27)]
RADII = [8, 9, 10, 8, 7, 6]


@pytest.mark.parametrize("voxel_size, refine", [(2.0, True), ((2.0, 2.4, 2.4), True),
                                                ((2.5, 2.0, 2.0), False)],
                         ids=["model grid", "rescaled x/y", "rescaled z, no refinement"])
def test_equals_the_in_memory_run(tmp_path, voxel_size, refine):
    import zarr

    volume = vesicle_tomogram((40, 56, 58), CENTRES, RADII)
    region = np.zeros(volume.shape, np.uint8)
    region[:, :, 4:] = 1
    m = meta(refine)
    want = segment_volume(volume, lumen_network, m, voxel_size=voxel_size, mask=region)
    made = {}

    def stores(name, shape, dtype):
        made[name] = zarr.open_array(tmp_path / f"{name}.zarr", mode="w", shape=shape,
                                     chunks=(16, 16, 16), dtype=dtype)
        return made[name]

    got = segment_volume_large(volume, lumen_network, m, voxel_size=voxel_size, mask=region,
                               stores=stores, chunk_shape=(13, 20, 17))
    n = int(want.labels.max())
    assert n >= 4                                         # most of the vesicles
    assert got.threshold == want.threshold
    np.testing.assert_array_equal(got.labels[:], want.labels)
    np.testing.assert_array_equal(got.probability[:], want.probability)
    np.testing.assert_array_equal(got.thresholds, want.thresholds)
    np.testing.assert_array_equal(got.shell_table, want.shell_table)
    if refine:
        np.testing.assert_array_equal(got.spheres.centres, want.spheres.centres)
        np.testing.assert_array_equal(got.spheres.radii, want.spheres.radii)
    rescaled = voxel_size != 2.0
    assert ("labels" in made) == rescaled


def test_bad_stores_and_inputs_name_themselves(tmp_path):
    volume = vesicle_tomogram((20, 24, 24), CENTRES[:1], RADII[:1])
    with pytest.raises(TypeError, match="stores"):
        segment_volume_large(volume, lumen_network, meta(False), voxel_size=2.0, stores=None)
    with pytest.raises(ValueError, match="probability_small"):
        segment_volume_large(volume, lumen_network, meta(False), voxel_size=2.0,
                             stores=lambda name, shape, dtype: np.zeros((2, 2, 2), dtype))
    with pytest.raises(ValueError, match="mask"):
        segment_volume_large(volume, lumen_network, meta(False), voxel_size=2.0,
                             stores=lambda *a: None, mask=np.ones((2, 2, 2)))
