"""emseg.segment.pipeline: the one segmentation pipeline (data bar, rescale,
tiles, post-processing) with a NumPy stand-in for the network."""

import numpy as np
import pytest

from emseg.segment import segment
from emseg.synthetic import sem_agglomerates


META = {"output": {"classes": ["particle"]}, "pixel_size_nm": 8.0, "tile_size": 128, "halo": 16,
        "normalization": {"mode": "image", "low": 1, "high": 99.8}, "threshold": 0.5,
        "postprocess": {"chain": "bam", "neck_nm": 7.5}}


def bright_network(batch):
    """Stand-in network: smoothed intensity above a level = particle."""
    from scipy import ndimage as ndi
    smooth = np.stack([ndi.gaussian_filter(t[..., 0], 1.0) for t in batch])
    return (1 / (1 + np.exp(-(smooth - 0.35) * 30)))[..., None].astype(np.float32)


def test_segment_excludes_data_bar_and_rescales_back():
    s = sem_agglomerates((300, 320), pixel_size=7.0, coverage=0.25, seed=4)
    image = np.vstack([s.image, np.zeros((30, 320), np.uint8)])
    image[-20:-10, 20:200:7] = 255                     # text in the bar
    seg = segment(image, bright_network, META, pixel_size=7.0)
    assert seg.databar_row == 300
    assert seg.labels.shape == image.shape and seg.probability.dtype == np.float32
    assert not seg.labels[300:].any() and not seg.probability[300:].any()
    from emseg.metrics import pixel_scores
    assert pixel_scores(seg.labels[:300], s.labels)["IoU"] > 0.7
    kept = segment(image, bright_network, META, pixel_size=7.0, keep_databar=True)
    assert kept.databar_row is None
    # a coarser threshold override shrinks the foreground
    strict = segment(image, bright_network, META, pixel_size=7.0, threshold=0.99)
    assert (strict.labels > 0).sum() < (seg.labels > 0).sum()
    assert strict.threshold == 0.99


def test_segment_validation():
    img = np.zeros((50, 50), np.uint8)
    with pytest.raises(ValueError, match="square"):
        segment(img, bright_network, META, pixel_size=(1.0, 2.0))
    with pytest.raises(ValueError, match="metadata"):
        segment(img, bright_network, {"pixel_size_nm": 8}, pixel_size=8.0)
    with pytest.raises(ValueError, match="threshold"):
        segment(img, bright_network, META, pixel_size=8.0, threshold=2)
    with pytest.raises(ValueError, match="options: unknown"):
        segment(img, bright_network, META, pixel_size=8.0, postprocess={"nek_nm": 3})


def test_maps_once_then_labels_for_several_settings():
    """predict_maps + labels_from_maps is segment; the maps serve many settings, the network
    runs once."""
    from emseg.segment import labels_from_maps, predict_maps

    s = sem_agglomerates((200, 240), pixel_size=7.0, coverage=0.3, seed=5)
    calls = []

    def counting(batch):
        calls.append(len(batch))
        return bright_network(batch)

    maps = predict_maps(s.image, counting, META, pixel_size=7.0, keep_databar=True)
    n_calls = len(calls)
    assert maps.maps.shape[-1] == 1 and maps.classes == ["particle"]
    assert maps.work_shape == maps.image_shape == (200, 240)
    whole = segment(s.image, bright_network, META, pixel_size=7.0, keep_databar=True)
    same = labels_from_maps(maps, META)
    assert np.array_equal(same.labels, whole.labels)
    assert np.array_equal(same.probability, whole.probability)
    coarse = labels_from_maps(maps, META, postprocess={"neck_nm": 80.0})
    fine = labels_from_maps(maps, META, postprocess={"neck_nm": 1.0})
    assert coarse.labels.max() < fine.labels.max()
    assert len(calls) == n_calls                     # no new prediction
    with pytest.raises(TypeError, match="maps must be predict_maps"):
        labels_from_maps(s.image, META)
    with pytest.raises(ValueError, match="unknown key"):
        labels_from_maps(maps, META, postprocess={"nek_nm": 3})
    # a bad override is refused before the network runs
    calls.clear()
    with pytest.raises(ValueError, match="unknown key"):
        segment(s.image, counting, META, pixel_size=7.0, postprocess={"nek_nm": 3})
    assert not calls
