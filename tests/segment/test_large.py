"""The segmentation pipeline chunk by chunk equals the whole-image run: labels, probabilities
and measurements, with particles straddling the chunk borders, with and without rescaling,
with a data bar."""

import numpy as np
import pandas as pd
import pytest

from emseg.measure import measure
from emseg.segment import segment
from emseg.segment.chunked import chunk_cores, chunk_table, number_pieces, paint_pieces, \
    raster_order
from emseg.segment.large import plan_large, predict_map, segment_chunk
from conftest import CHUNK, chunk_scene as scene

MARGIN = 64


def chunked(image, predictor, pixel_size):
    plan = plan_large(image, predictor.meta, pixel_size=pixel_size)
    maps = np.full(plan.small_shape + (len(plan.settings["classes"]),), np.nan, np.float32)
    bands = []

    def write(rows, band):
        bands.append(rows)
        maps[rows] = band
    predict_map(image, predictor, plan, write)
    # the map comes in bands, top to bottom, covering every row once
    assert bands[0].start == 0 and bands[-1].stop == plan.small_shape[0] and len(bands) > 1
    assert all(a.stop == b.start for a, b in zip(bands, bands[1:]))
    results, probs = [], np.zeros(plan.image_shape, np.float32)
    for core in chunk_cores(plan.work_shape, CHUNK):
        res, prob = segment_chunk(image, maps, predictor.meta, plan, core, margin=MARGIN)
        results.append(res)
        probs[core] = prob
    numbers = number_pieces([r.pieces for r in results])
    labels = paint_pieces([p for r in results for p in r.pieces], np.concatenate(numbers),
                          tuple(slice(0, n) for n in plan.image_shape))
    return plan, labels, probs, chunk_table(results, numbers)


@pytest.mark.parametrize("pixel_size,databar", [(5.0, 0), (4.3, 40)])
def test_chunks_equal_the_whole_image(tiny_model, pixel_size, databar):
    from emseg.models.saved import load_predictor

    predictor = load_predictor(tiny_model.path)
    image = scene((290, 330), seed=4, databar=databar)
    whole = segment(image, predictor, predictor.meta, pixel_size=pixel_size)
    plan, labels, prob, table = chunked(image, predictor, pixel_size)
    assert plan.identity == (pixel_size == 5.0)
    assert plan.databar_row == whole.databar_row == (290 if databar else None)
    expected = raster_order(whole.labels)
    assert expected.max() >= 20
    # the particles cut by chunk borders are there, one label each
    from scipy import ndimage as ndi
    cut = sum(1 for box in ndi.find_objects(expected)
              if any(s.start // CHUNK != (s.stop - 1) // CHUNK for s in box))
    assert cut >= 8
    np.testing.assert_array_equal(labels, expected)
    np.testing.assert_array_equal(prob, whole.probability)
    pd.testing.assert_frame_equal(table, measure(expected, image, pixel_size=pixel_size),
                                  check_exact=True)
