"""emseg.classify: instance encoding, scores, rule filters, classify() plumbing."""

import math

import numpy as np
import pytest

from emseg.filter import (apply_filters, border_filter, classify, classifier_input,
                            combine_scores, encode_instances, filter_labels, instance_scores,
                            parse_range, range_filter)
from emseg.measure import measure


def two_squares():
    lab = np.zeros((12, 14), np.int32)
    lab[2:7, 2:7] = 1        # 5x5
    lab[2:7, 7:10] = 2       # 5x3, touching label 1
    lab[9:11, 11:14] = 3     # at the right border
    return lab


def test_encode_instances_marks_outlines_between_and_around_particles():
    lab = two_squares()
    enc = encode_instances(lab)
    assert enc.dtype == np.float32 and enc.shape == lab.shape
    assert set(np.unique(enc)) == {0.0, 0.5, 1.0}
    assert (enc[lab == 0] == 0).all()
    # interior of the 5x5 square is 1, its ring 0.5; the contact column of 2 is outline too
    assert (enc[3:6, 3:6] == 1).all() and enc[2, 4] == 0.5 and enc[4, 6] == 0.5
    assert enc[4, 7] == 0.5 and enc[4, 8] == 1 and enc[4, 9] == 0.5  # contact and far side
    with pytest.raises(TypeError, match="labels"):
        encode_instances(np.zeros((4, 4), np.float32))


def test_classifier_input_rescales_image_and_keeps_outlines_sharp():
    lab = np.kron(two_squares(), np.ones((2, 2), np.int32))
    image = np.arange(lab.size, dtype=np.float32).reshape(lab.shape)
    x = classifier_input(image, lab, 0.5)
    assert x.shape == (12, 14, 2) and x.dtype == np.float32
    assert set(np.unique(x[..., 1])) <= {0.0, 0.5, 1.0}
    with pytest.raises(ValueError, match="differ in shape"):
        classifier_input(image[:-1], lab)


def test_instance_scores_are_means_over_each_instance():
    lab = two_squares()
    score = np.zeros(lab.shape, np.float32)
    score[lab == 1] = 0.8
    score[2:7, 7] = 1.0            # one of the three columns of label 2
    s = instance_scores(lab, score)
    assert s.shape == (4,) and math.isnan(s[0])
    assert s[1] == pytest.approx(0.8) and s[2] == pytest.approx(1 / 3) and s[3] == 0
    missing = instance_scores(np.where(lab == 2, 0, lab), score)
    assert math.isnan(missing[2])
    with pytest.raises(ValueError, match="score_map"):
        instance_scores(lab, score[:-1])


def test_combine_scores_weights_classes():
    p = np.zeros((2, 2, 3), np.float32)
    p[..., 0], p[..., 1], p[..., 2] = 0.6, 0.3, 0.5
    assert np.allclose(combine_scores(p), 0.6)
    assert np.allclose(combine_scores(p, [1.0, 0.5, 0.0]), 0.75)
    assert np.allclose(combine_scores(p, [1.0, 1.0, 1.0]), 1.0)      # clipped
    assert np.allclose(combine_scores(p, [1.0, 0.0, -1.0]), 0.1)
    with pytest.raises(ValueError, match="weights"):
        combine_scores(p, [1.0, 0.0])
    with pytest.raises(ValueError, match="probabilities"):
        combine_scores(p[..., 0])


def test_parse_range():
    assert parse_range("MinFeret=50:300") == ("MinFeret", 50.0, 300.0)
    assert parse_range("Solidity=0.9:") == ("Solidity", 0.9, math.inf)
    assert parse_range("Area=:1e5") == ("Area", -math.inf, 1e5)
    assert parse_range("Circ.=-1:1") == ("Circ.", -1.0, 1.0)
    for bad in ("MinFeret", "MinFeret=1", "=1:2", "A=x:2", "A=3:2", "A=1:2:3"):
        with pytest.raises(ValueError, match="range"):
            parse_range(bad)


@pytest.fixture
def table():
    lab = two_squares()
    return measure(lab, lab.astype(np.float32) * 10, pixel_size=2.0)


def test_range_and_border_filters(table):
    assert table["Area"].tolist() == [100.0, 60.0, 24.0]
    assert range_filter(table, ["Area=50:"]).tolist() == [True, True, False]
    assert range_filter(table, [("Area", 50, 80), "Mean=15:"]).tolist() == [False, True, False]
    assert range_filter(table, []).all()
    assert border_filter(table).tolist() == [True, True, False]
    with pytest.raises(ValueError, match="no column 'Foo'"):
        range_filter(table, ["Foo=1:2"])
    with pytest.raises(ValueError, match="Border"):
        border_filter(table.drop(columns="Border"))
    with pytest.raises(TypeError, match="table"):
        range_filter(table.to_numpy(), [])


def test_apply_filters_combines_classifier_and_rules(table):
    scores = np.array([np.nan, 0.9, 0.4, 0.95])
    out = apply_filters(table, scores=scores, min_score=0.5, exclude_border=True)
    assert out["Score"].tolist() == [0.9, 0.4, 0.95] and out["Kept"].tolist() == [True, False, False]
    assert "Kept" not in table.columns                     # the input is not changed
    out = apply_filters(table, scores=scores, min_score=0.3, ranges=["Area=:80"])
    assert out["Kept"].tolist() == [False, True, True]
    rules = apply_filters(table, ranges=["MinFeret=5:"])
    assert rules["Score"].isna().all() and rules["Kept"].tolist() == [True, True, False]
    with pytest.raises(ValueError, match="min_score"):
        apply_filters(table, scores=scores, min_score=1.5)
    with pytest.raises(ValueError, match="scores"):
        apply_filters(table, scores=np.array([0.1, 0.2]))


def test_filter_labels_keeps_numbers():
    lab = two_squares()
    out = filter_labels(lab, [2, 3, 99])
    assert out.dtype == lab.dtype
    assert set(np.unique(out)) == {0, 2, 3} and (out[lab == 2] == 2).all() and (out[lab == 1] == 0).all()
    assert not filter_labels(lab, []).any()


META = {"name": "fake", "task": "classifier", "output": {"classes": ["keep"]}, "score_weights": [1.0],
        "pixel_size_nm": 4.0, "tile_size": 32, "halo": 4, "input": {"divisor": 4},
        "normalization": {"mode": "image", "low": 1.0, "high": 99.8}, "threshold": 0.6}


def test_classify_scores_instances_with_the_network_output():
    """A fake network returning its instance channel: the scores are then the mean
    outline encoding of each instance (known), through tiles and rescaling."""
    lab = np.kron(two_squares(), np.ones((4, 4), np.int32))      # at 2 nm; the model works at 4
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 255, lab.shape).astype(np.float32)
    calls = []

    def fake(batch):
        calls.append(batch.shape)
        assert batch.shape[-1] == 2 and 0 <= batch[..., 0].min() and batch[..., 0].max() <= 1
        return batch[..., 1:2]

    res = classify(image, lab, fake, META, pixel_size=2.0)
    assert calls and res.threshold == 0.6 and res.score_map.shape == lab.shape
    at_model_scale = encode_instances(np.kron(two_squares(), np.ones((2, 2), np.int32)))
    expected = instance_scores(lab, np.kron(at_model_scale, np.ones((2, 2), np.float32)))
    # linear up-sampling of the score map blurs the 1-px outlines a little
    assert np.allclose(res.scores[1:], expected[1:], atol=0.1)
    assert res.scores[1] > res.scores[2]               # the thin particle is mostly outline
    empty = classify(image, np.zeros_like(lab), fake, META, pixel_size=2.0)
    assert empty.scores.shape == (1,) and not empty.score_map.any()


def test_classify_rejects_wrong_models_and_input():
    lab = two_squares()
    image = np.zeros(lab.shape, np.float32)
    with pytest.raises(ValueError, match="not a classifier"):
        classify(image, lab, lambda b: b, {**META, "task": "segmentation"}, pixel_size=1.0)
    with pytest.raises(ValueError, match="metadata"):
        classify(image, lab, lambda b: b, {"task": "classifier"}, pixel_size=1.0)
    with pytest.raises(ValueError, match="differ in shape"):
        classify(image[:-1], lab, lambda b: b, META, pixel_size=1.0)
    with pytest.raises(ValueError, match="pixel_size"):
        classify(image, lab, lambda b: b, META, pixel_size=-1.0)


def test_segment_refuses_a_classifier():
    from emseg.segment import segment
    with pytest.raises(ValueError, match="not a segmentation model"):
        segment(np.zeros((16, 16)), lambda b: b, META, pixel_size=4.0)


def test_keep_reference_transfers_the_manual_keep_set():
    from emseg.metrics import keep_reference
    truth = two_squares()
    keep = np.isin(truth, [1, 3])
    pred = np.zeros_like(truth)
    pred[2:7, 2:6] = 5              # most of 1 (IoU 0.8)
    pred[2:7, 6:10] = 6             # 2 plus a column of 1 (IoU 0.75)
    pred[0, 0] = 7                  # nothing
    fit = keep_reference(pred, truth, keep)
    assert fit.shape == (8,) and np.flatnonzero(fit).tolist() == [5]
    assert not keep_reference(pred, truth, keep, iou_threshold=0.9).any()
    with pytest.raises(ValueError, match="truth_keep"):
        keep_reference(pred, truth, keep[:-1])


def test_filter_array_without_classifier_and_binary_masks():
    from emseg.workflows import filter_array
    lab = two_squares()
    image = lab.astype(np.float32)
    res = filter_array(image, lab, None, pixel_size=1.0, ranges=["Area=20:"], exclude_border=True)
    assert res.table["Kept"].tolist() == [True, False, False]
    assert set(np.unique(res.filtered)) == {0, 1}
    mask = (lab > 0).astype(np.uint8) * 255
    res8 = filter_array(image, mask, None, pixel_size=1.0)
    assert len(res8.table) == 2                     # 1 and 2 touch: one 8-connected particle
    assert res8.labels.max() == 2 and res8.table["Kept"].all()
    with pytest.raises(ValueError, match="pixel_size"):
        filter_array(image, lab, None, pixel_size=None)
    with pytest.raises(ValueError, match="connectivity"):
        filter_array(image, lab, None, pixel_size=1.0, connectivity=6)
    with pytest.raises(ValueError, match="range"):
        filter_array(image, lab, None, pixel_size=1.0, ranges=["Area"])
