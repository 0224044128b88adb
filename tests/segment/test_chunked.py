"""Chunked labelling: objects straddling chunk borders on purpose get one label and one row,
equal to labelling and measuring the whole array."""

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage as ndi

from emseg.measure import measure
from emseg.segment.chunked import (MarginTooSmall, chunk_block, chunk_cores, chunk_table,
                                   label_in_chunks, owned_pieces, paint_pieces, raster_order)
from emseg.segment.postprocess import distance_watershed
from emseg.synthetic import particle_labels, render_micrograph

CHUNK = 64
MARGIN = 40


def straddling_scene(shape, seed):
    """Particles, touching pairs among them, centred on the chunk grid's lines and crossings
    (and on the image's edges), plus random ones; returns (image, foreground)."""
    rng = np.random.default_rng(seed)
    rr, cc = np.indices(shape)
    fg = particle_labels(shape, 15, radius=(4, 9), seed=seed) > 0
    for r in range(0, shape[0] + 1, CHUNK // 2):
        for c in range(0, shape[1] + 1, CHUNK // 2):
            if r % CHUNK and c % CHUNK:
                continue                # only on the grid's lines
            dr, dc = rng.integers(-3, 4, 2)
            fg |= np.hypot(rr - r - dr, cc - c - dc) < rng.uniform(3, 7)
            if rng.random() < 0.5:       # a touching neighbour: one component, two objects
                fg |= np.hypot(rr - r - dr, cc - c - dc - 10) < rng.uniform(4, 6)
    comps = ndi.find_objects(ndi.label(fg, structure=np.ones((3, 3)))[0])
    assert max(s.stop - s.start for box in comps for s in box) < MARGIN
    image = render_micrograph(fg.astype(np.int32), seed=seed)
    return image, fg


def paint_all(results, numbers, shape):
    region = tuple(slice(0, n) for n in shape)
    return paint_pieces([p for r in results for p in r.pieces], np.concatenate(numbers),
                        region)


@pytest.mark.parametrize("label_fn,name", [
    (lambda block: ndi.label(block > 127, structure=np.ones((3, 3)))[0], "components"),
    (lambda block: distance_watershed(block > 127, h=1.0), "distance watershed"),
])
def test_chunked_labels_and_measurements_equal_the_whole_image(label_fn, name):
    image, fg = straddling_scene((250, 300), seed=1)
    grey = np.where(fg, 200, 50).astype(np.uint8)
    whole = raster_order(label_fn(grey))
    results, numbers = label_in_chunks(grey, label_fn, chunk_shape=CHUNK, margin=MARGIN,
                                       image=image, pixel_size=(2.5, 2.5))
    # objects cut by chunk borders: many, or the test shows nothing
    cores = chunk_cores(grey.shape, CHUNK)
    cut = sum(1 for box in ndi.find_objects(whole)
              if any(s.start // CHUNK != (s.stop - 1) // CHUNK for s in box))
    assert cut >= 30, (name, cut)
    assert len(cores) == 4 * 5
    np.testing.assert_array_equal(paint_all(results, numbers, grey.shape), whole)
    table = chunk_table(results, numbers)
    expected = measure(whole, image, pixel_size=(2.5, 2.5))
    assert len(table) == whole.max()
    pd.testing.assert_frame_equal(table, expected, check_exact=True)
    # any region's labels come from the pieces reaching it
    region = (slice(40, 170), slice(90, 230))
    np.testing.assert_array_equal(
        paint_pieces([p for r in results for p in r.pieces], np.concatenate(numbers), region),
        whole[region])


def test_chunked_labels_in_3d():
    rng = np.random.default_rng(5)
    shape = (60, 90, 100)
    zz, yy, xx = np.indices(shape)
    fg = np.zeros(shape, bool)
    for _ in range(60):
        c = rng.uniform(0, 1, 3) * shape
        c[rng.integers(0, 3)] = CHUNK // 2 * rng.integers(1, 3)    # on a chunk border
        fg |= (zz - c[0]) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2 < rng.uniform(3, 8) ** 2

    def label_fn(block):
        return ndi.label(block)[0]
    whole = raster_order(label_fn(fg))
    results, numbers = label_in_chunks(fg, label_fn, chunk_shape=(32, 32, 32), margin=32)
    assert len(results) == 2 * 3 * 4
    np.testing.assert_array_equal(paint_all(results, numbers, shape), whole)
    assert sum(len(r.pieces) for r in results) == whole.max() > 25
    assert sum(1 for box in ndi.find_objects(whole)
               if any(s.start // 32 != (s.stop - 1) // 32 for s in box)) >= 15


def test_an_object_larger_than_the_margin_is_refused():
    fg = np.zeros((100, 100), np.uint8)
    fg[10:20, 5:95] = 1           # 90 px long, margin 16
    with pytest.raises(MarginTooSmall, match="larger than the largest object"):
        label_in_chunks(fg, lambda b: ndi.label(b)[0], chunk_shape=32, margin=16)
    results, numbers = label_in_chunks(fg, lambda b: ndi.label(b)[0], chunk_shape=32,
                                       margin=96)
    assert [len(n) for n in numbers] == [1] + [0] * 15


def test_chunk_geometry_and_argument_errors():
    cores = chunk_cores((10, 7), (4, 5))
    assert cores[0] == (slice(0, 4), slice(0, 5)) and cores[-1] == (slice(8, 10), slice(5, 7))
    assert len(cores) == 6
    assert chunk_block(cores[3], (10, 7), 2) == (slice(2, 10), slice(3, 7))
    with pytest.raises(ValueError, match="chunk_shape must be positive"):
        chunk_cores((10, 7), 0)
    with pytest.raises(ValueError, match="margin must be non-negative"):
        chunk_block(cores[0], (10, 7), -1)
    with pytest.raises(TypeError, match="block_labels must be an integer array"):
        owned_pieces(np.zeros((4, 5)), cores[0], cores[0], (10, 7))
    with pytest.raises(ValueError, match="block_labels has shape"):
        owned_pieces(np.zeros((3, 5), int), cores[0], cores[0], (10, 7))
    with pytest.raises(ValueError, match="image has shape"):
        label_in_chunks(np.zeros((10, 7)), np.round, chunk_shape=4, margin=1,
                        image=np.zeros((3, 3)))
    with pytest.raises(TypeError, match="labels must be an integer array"):
        raster_order(np.zeros((3, 3)))
    np.testing.assert_array_equal(raster_order(np.array([[0, 7, 7], [3, 0, 9]])),
                                  [[0, 1, 1], [2, 0, 3]])


def test_measure_of_a_crop_gives_the_whole_image_positions():
    labels = particle_labels((120, 140), 15, radius=(5, 10), seed=8)
    image = render_micrograph(labels, seed=8)
    whole = measure(labels, image, pixel_size=(1.5, 2.0))
    # a crop holding particles 3 and 4 whole, at its place in the image
    box = ndi.find_objects(np.isin(labels, [3, 4]).astype(int))[0]
    crop = tuple(slice(max(0, s.start - 3), s.stop + 3) for s in box)
    part = np.where(np.isin(labels[crop], [3, 4]), labels[crop], 0)
    t = measure(part, image[crop], pixel_size=(1.5, 2.0), origin=(crop[0].start, crop[1].start),
                image_shape=labels.shape)
    expected = whole[whole["Label"].isin([3, 4])].reset_index(drop=True)
    pd.testing.assert_frame_equal(t, expected, check_exact=True)
    with pytest.raises(ValueError, match="origin must be"):
        measure(part, origin=(1.5, 2))
    with pytest.raises(ValueError, match="does not fit"):
        measure(part, origin=(0, 0), image_shape=(5, 5))
