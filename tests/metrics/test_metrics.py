"""emseg.metrics: hand-worked cases, cross-checks with scikit-image/SciPy, real masks."""

import math

import numpy as np
import pytest
from scipy import ndimage as ndi

from emseg import metrics as M


def row(*segments, width=24):
    """1 x width label row: segments are (label, first, last) inclusive column ranges."""
    out = np.zeros((1, width), np.int32)
    for lab, a, b in segments:
        out[0, a:b + 1] = lab
    return out


def disc(shape, center, radius, value=1):
    rr, cc = np.indices(shape)
    return np.where(np.hypot(rr - center[0], cc - center[1]) <= radius, value, 0)


# ---------------------------------------------------------------- pixel level

def test_pixel_scores_hand_case():
    truth = np.array([[1, 1, 0, 0], [1, 1, 0, 0]])
    pred = np.array([[0, 1, 1, 0], [0, 1, 1, 0]])
    s = M.pixel_scores(pred, truth)
    assert (s["TP"], s["FP"], s["FN"], s["TN"]) == (2, 2, 2, 2)
    assert s["IoU"] == pytest.approx(1 / 3)
    assert s["Dice"] == pytest.approx(0.5)
    assert s["Precision"] == pytest.approx(0.5) and s["Recall"] == pytest.approx(0.5)
    # any non-zero value is foreground, label values do not matter
    assert M.pixel_scores(pred * 7, truth.astype(bool))["IoU"] == pytest.approx(1 / 3)
    assert M.pixel_error(pred, truth) == pytest.approx(0.5)


def test_pixel_scores_undefined_is_nan():
    empty = np.zeros((3, 3), np.uint8)
    s = M.pixel_scores(empty, empty)
    assert all(math.isnan(s[k]) for k in ("IoU", "Dice", "Precision", "Recall"))
    one = empty.copy()
    one[1, 1] = 1
    s = M.pixel_scores(empty, one)
    assert s["IoU"] == 0 and s["Recall"] == 0 and math.isnan(s["Precision"])


def test_class_scores_per_class_and_mean():
    truth = np.array([[1, 1, 2, 2], [1, 1, 2, 2], [0, 0, 0, 0]])
    pred = np.array([[1, 1, 2, 2], [1, 1, 2, 0], [0, 0, 0, 1]])
    t = M.class_scores(pred, truth)
    # class 1: TP 4, FP 1 (bottom right), FN 0; class 2: TP 3, FP 0, FN 1
    assert t.loc[1, "IoU"] == pytest.approx(4 / 5)
    assert t.loc[1, "Dice"] == pytest.approx(8 / 9)
    assert t.loc[1, "Precision"] == pytest.approx(4 / 5) and t.loc[1, "Recall"] == 1
    assert t.loc[2, "IoU"] == pytest.approx(3 / 4)
    assert t.loc[2, "Dice"] == pytest.approx(6 / 7)
    assert t.loc[2, "Precision"] == 1 and t.loc[2, "Recall"] == pytest.approx(3 / 4)
    assert t.loc["mean", "IoU"] == pytest.approx((4 / 5 + 3 / 4) / 2)
    assert list(t["Support"]) == [4, 4, 8]
    with_bg = M.class_scores(pred, truth, classes=[0, 1, 2])
    # background: pred 0 at 4 px, truth 0 at 4 px, shared 3
    assert with_bg.loc[0, "IoU"] == pytest.approx(3 / 5)


def test_roc_and_youden_hand_case():
    prob = np.array([[0.9, 0.8, 0.7], [0.6, 0.5, 0.4]])
    truth = np.array([[1, 1, 0], [1, 0, 0]])
    fpr, tpr, thr = M.roc_curve(prob, truth)
    np.testing.assert_allclose(thr, [np.inf, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    np.testing.assert_allclose(tpr, [0, 1 / 3, 2 / 3, 2 / 3, 1, 1, 1])
    np.testing.assert_allclose(fpr, [0, 0, 0, 1 / 3, 1 / 3, 2 / 3, 1])
    j, t = M.youden_index(prob, truth)
    assert j == pytest.approx(2 / 3) and t == pytest.approx(0.8)


def test_youden_ties_perfect_and_degenerate():
    # tied scores form one threshold: a pos and a neg at 0.5 can't be split
    prob = np.array([[0.5, 0.5, 0.1, 0.9]])
    truth = np.array([[1, 0, 0, 1]])
    fpr, tpr, thr = M.roc_curve(prob, truth)
    assert len(thr) == 4
    assert M.youden_index(prob, truth)[0] == pytest.approx(0.5)
    # perfect separation
    assert M.youden_index(np.array([[0.2, 0.7]]), np.array([[0, 1]])) == (1.0, 0.7)
    # integer (8-bit) score maps are fine too
    assert M.youden_index(np.array([[10, 200]], np.uint8), np.array([[0, 1]]))[0] == 1.0
    j, t = M.youden_index(np.array([[0.2, 0.7]]), np.array([[1, 1]]))
    assert math.isnan(j) and math.isnan(t)


# ---------------------------------------------------------------- instances

def test_match_instances_hand_case():
    # truth 1: 10 px, pred 7 shifted by one: 8 shared of 12 -> IoU 2/3
    # truth 2: 8 px (2x4), pred 3 covers half: IoU 1/2 (matches at >= 0.5)
    # pred 9 alone: FP; truth 4 alone: FN
    truth = np.zeros((10, 12), np.int32)
    pred = np.zeros_like(truth)
    truth[0:2, 0:5] = 1
    pred[0:2, 1:6] = 7
    truth[5:7, 0:4] = 2
    pred[5:7, 0:2] = 3
    pred[9, 9] = 9
    truth[8, 0] = 4
    m = M.match_instances(pred, truth)
    assert (m.tp, m.fp, m.fn) == (2, 1, 1)
    assert m.precision == pytest.approx(2 / 3) and m.recall == pytest.approx(2 / 3)
    assert m.f1 == pytest.approx(2 / 3)
    assert m.mean_iou == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert dict(zip(m.pred_labels.tolist(), m.truth_labels.tolist())) == {7: 1, 3: 2}
    m6 = M.match_instances(pred, truth, iou_threshold=0.6)
    assert (m6.tp, m6.fp, m6.fn) == (1, 2, 2)


def test_match_instances_is_optimal_below_one_half():
    # T1 = cols 0-9, T2 = cols 10-19; P1 = cols 4-13 (IoU 3/7 with T1, 1/4 with T2),
    # P2 = cols 0-3 (IoU 0.4 with T1). Greedy by IoU would pair P1-T1 and stop at one match.
    truth = row((1, 0, 9), (2, 10, 19))
    pred = row((5, 4, 13), (6, 0, 3))
    m = M.match_instances(pred, truth, iou_threshold=0.25)
    assert m.tp == 2
    assert dict(zip(m.pred_labels.tolist(), m.truth_labels.tolist())) == {5: 2, 6: 1}
    assert m.mean_iou == pytest.approx((0.25 + 0.4) / 2)
    assert M.match_instances(pred, truth, iou_threshold=0.5).tp == 0


def test_match_instances_3d_and_label_values():
    truth = np.zeros((6, 6, 6), np.uint16)
    truth[1:4, 1:4, 1:4] = 40000
    pred = np.zeros_like(truth)
    pred[1:4, 1:4, 2:5] = 3   # 18 of 36 px shared: IoU 1/2
    m = M.match_instances(pred, truth)
    assert m.tp == 1 and m.mean_iou == pytest.approx(0.5)
    # 3D masks: 26-connected by default, 6 on request
    mask = np.zeros((4, 4, 4), bool)
    mask[0, 0, 0] = mask[1, 1, 1] = True
    assert M.to_instances(mask).max() == 1
    assert M.to_instances(mask, connectivity=6).max() == 2


def test_instance_iou_both_sides():
    truth = row((1, 0, 9), (2, 10, 19))
    pred = row((5, 4, 13), (6, 0, 3), (8, 21, 22))   # 8 touches nothing: 0
    p_side, t_side = M.instance_iou(pred, truth)
    assert p_side == pytest.approx((3 / 7 + 0.4 + 0) / 3)
    assert t_side == pytest.approx((3 / 7 + 0.25) / 2)
    p_side, t_side = M.instance_iou(np.zeros_like(truth), truth)
    assert math.isnan(p_side) and t_side == 0


def test_ctc_seg_and_det_hand_case():
    truth = row((1, 0, 9), (2, 10, 19))
    pred = row((5, 4, 13), (6, 0, 3))
    # T1: P5 covers 6 of 10 (> half) -> J = 6/14; T2: P5 covers 4 -> unmatched
    seg, seg_star = M.ctc_seg(pred, truth)
    assert seg == pytest.approx((6 / 14 + 0) / 2)
    assert seg_star == pytest.approx(6 / 14)
    # FN = T2 (10), FP = P6 (1): AOGM 11 of AOGM0 20
    assert M.ctc_det(pred, truth) == pytest.approx(1 - 11 / 20)
    # exactly half is not a match
    assert M.ctc_seg(row((3, 0, 4)), row((1, 0, 9)))[0] == 0


def test_ctc_det_split_and_floor():
    truth = row((1, 0, 4), (2, 6, 10))
    merged = row((9, 0, 10))
    # one prediction covering both objects: one split (5) of AOGM0 20
    assert M.ctc_det(merged, truth) == pytest.approx(0.75)
    assert M.ctc_seg(merged, truth) == pytest.approx((5 / 11, 5 / 11))
    # custom weights, e.g. a split as costly as a miss
    assert M.ctc_det(merged, truth, weights={"split": 10}) == pytest.approx(0.5)
    # far too many false positives: clipped at 0, never negative
    noise = np.zeros((1, 24), np.int32)
    noise[0, 12::1] = np.arange(1, 13)
    assert M.ctc_det(noise, row((1, 0, 0))) == 0.0
    assert M.ctc_det(truth, truth) == 1.0
    assert math.isnan(M.ctc_det(truth, np.zeros_like(truth)))


# ---------------------------------------------------------------- ISBI 2012

def test_rand_error_hand_cases():
    truth = row((1, 0, 3))
    split = row((1, 0, 1), (2, 2, 3))
    # shared pairs 2+2 = 4 (n(n-1)), pred pairs 4, truth pairs 12
    r = M.rand_error(split, truth)
    assert r.precision == 1 and r.recall == pytest.approx(1 / 3)
    assert r.error == pytest.approx(0.5)
    # predicted background inside a true object is one more (wrong) segment
    assert M.rand_error(row((1, 0, 1)), truth).error == pytest.approx(0.5)
    # pixels that are background in truth do not count at all
    assert M.rand_error(row((1, 0, 3), (2, 10, 20)), truth).error == 0
    merged = row((1, 0, 3))
    two = row((1, 0, 1), (2, 2, 3))
    r = M.rand_error(merged, two)
    assert r.precision == pytest.approx(1 / 3) and r.recall == 1


def test_information_error_hand_cases():
    truth = row((1, 0, 3))
    split = row((1, 0, 1), (2, 2, 3))
    e = M.information_error(split, truth)        # H(T) = 0, H(S) = 1 bit, I = 0
    assert e.error == pytest.approx(1.0)
    assert e.splits == pytest.approx(1.0) and e.merges == pytest.approx(0.0)
    assert M.information_error(truth, split).merges == pytest.approx(1.0)
    assert M.information_error(split, split).error == pytest.approx(0.0)
    # truth [1 1 2 2], pred [1 1 1 2]: H(S) = H(3/4, 1/4), H(T) = 1, H(S,T) = 1.5
    hs = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    mutual = hs + 1 - 1.5
    e = M.information_error(row((1, 0, 2), (2, 3, 3)), row((1, 0, 1), (2, 2, 3)))
    assert e.error == pytest.approx(1 - 2 * mutual / (hs + 1))
    assert math.isnan(M.information_error(truth, truth).error)   # one segment each


def _perturbed(truth, seed):
    """A realistic wrong segmentation: eroded, merged by closing, relabelled, noisy."""
    rng = np.random.default_rng(seed)
    fg = ndi.binary_closing(truth > 0, iterations=2) & (rng.random(truth.shape) > 0.02)
    fg = ndi.binary_erosion(fg)
    return ndi.label(fg)[0]


def test_rand_and_information_match_scikit_image(bam_dir):
    from skimage.metrics import adapted_rand_error, variation_of_information
    from emseg.workflows import load_labels

    for path in sorted((bam_dir / "masks").glob("*_m.tif"))[:3]:
        truth = M.to_instances(load_labels(path)[0][:704], connectivity=4)
        pred = _perturbed(truth, 1)
        are, prec, rec = adapted_rand_error(truth, pred)
        r = M.rand_error(pred, truth)
        assert r.error == pytest.approx(are, rel=1e-12)
        # scikit-image names its pair of ratios the other way round
        assert sorted([r.precision, r.recall]) == pytest.approx(sorted([prec, rec]), rel=1e-12)
        vi = variation_of_information(truth, pred, ignore_labels=(0,))
        e = M.information_error(pred, truth)
        assert (e.splits, e.merges) == pytest.approx(tuple(vi), rel=1e-9)
        assert 0 < e.error < 1 and 0 < r.error < 1


# ---------------------------------------------------------------- biology-facing

def test_ratio_error():
    assert M.ratio_error([10, 20], [5, 20]) == pytest.approx(0.25)
    assert M.ratio_error([5, 20], [10, 20]) == pytest.approx(0.25)   # symmetric
    assert M.ratio_error([0], [0]) == 0
    assert math.isnan(M.ratio_error([], []))


def test_morphology_errors_discs():
    from emseg.measure import measure

    truth = disc((64, 64), (32, 32), 20)
    pred = disc((64, 64), (32, 32), 16, value=2)
    m = M.match_instances(pred, truth)
    assert m.tp == 1
    pt, tt = measure(pred), measure(truth)
    out = M.morphology_errors(m, pt, tt)
    assert out["n"] == 1
    assert out["delta_d"] == pytest.approx(1 - pt["ECD"][0] / tt["ECD"][0])
    assert out["delta_d"] == pytest.approx(0.2, abs=0.01)       # radius 16 vs 20
    lo, hi = sorted([pt["Circ."][0], tt["Circ."][0]])
    assert out["delta_r"] == pytest.approx(1 - lo / hi)
    assert out["delta_r"] < 0.05                                 # both round


def test_wilcoxon_mc():
    from scipy.stats import mannwhitneyu

    rng = np.random.default_rng(3)
    a, b = rng.normal(10, 1, 30), rng.normal(10.5, 1, 30)
    # with exactly fold_size values every fold is the whole sample: the plain test
    assert M.wilcoxon_mc(a, b) == pytest.approx(mannwhitneyu(a, b).pvalue, rel=1e-12)
    same = M.wilcoxon_mc(rng.normal(10, 1, 400), rng.normal(10, 1, 300), seed=1)
    shifted = M.wilcoxon_mc(rng.normal(10, 1, 400), rng.normal(11.5, 1, 300), seed=1)
    assert same > 0.1 and shifted < 1e-4
    small = (rng.normal(0, 1, 12), rng.normal(0, 1, 9))   # 2/3 drawn per fold
    assert M.wilcoxon_mc(*small, seed=5) == M.wilcoxon_mc(*small, seed=5)
    assert M.wilcoxon_mc(*small, seed=5) != M.wilcoxon_mc(*small, seed=6)
    assert math.isnan(M.wilcoxon_mc([1.0], [1.0, 2.0]))


def test_center_detection_hand_case():
    truth = disc((40, 90), (20, 20), 8, 1) + disc((40, 90), (20, 60), 8, 2)
    pred = disc((40, 90), (22, 20), 6, 5)          # centre 2 px below truth 1's
    pred += disc((40, 90), (20, 40), 4, 6)         # centre in background: FP
    pred += disc((40, 90), (20, 82), 3, 7)         # centre in background: FP
    c = M.center_detection(pred, truth)
    assert (c["TP"], c["FP"], c["FN"]) == (1, 2, 1)
    assert c["Precision"] == pytest.approx(1 / 3) and c["Recall"] == pytest.approx(1 / 2)
    assert c["F1"] == pytest.approx(2 / 5)
    assert c["Residual"] == pytest.approx(2.0)
    assert M.center_detection(pred, truth, pixel_size=2.5)["Residual"] == pytest.approx(5.0)
    # (width, height): the offset is along rows, so the height counts
    assert M.center_detection(pred, truth, pixel_size=(1.0, 3.0))["Residual"] == pytest.approx(6.0)


def test_center_detection_duplicates_keep_nearest():
    truth = np.zeros((20, 40), np.int32)
    truth[2:18, 2:38] = 1
    pred = np.zeros_like(truth)
    pred[8:11, 18:21] = 1      # centre (9, 19): 0.5 px from truth centre (9.5, 19.5)... nearest
    pred[4:7, 4:7] = 2         # centre (5, 5): also inside, farther away
    c = M.center_detection(pred, truth)
    assert (c["TP"], c["FP"], c["FN"]) == (1, 1, 0)
    assert c["Residual"] == pytest.approx(math.hypot(0.5, 0.5))


def test_distribution_errors():
    d = M.distribution_errors([1, 2, 3, 4], [2, 4, 6, 8])
    for k in ("mean", "median", "D10", "D90"):
        assert d[k] == pytest.approx(-0.5)
    assert d["KS"] == pytest.approx(0.5)
    from scipy.stats import ks_2samp
    rng = np.random.default_rng(0)
    a, b = rng.gamma(4, 5, 300), rng.gamma(5, 4, 200)
    assert M.distribution_errors(a, b)["KS"] == pytest.approx(ks_2samp(a, b).statistic)
    assert all(math.isnan(v) for v in M.distribution_errors([], [1.0]).values())


# ---------------------------------------------------------------- evaluate

def _scene():
    from emseg.synthetic import particle_labels
    return particle_labels((256, 256), 40, radius=(8.0, 12.0), seed=2)


def test_evaluate_perfect_segmentation():
    truth = _scene()
    prob = (truth > 0).astype(np.float32)
    s = M.evaluate(truth, truth, prob, pixel_size=2.0).scores
    n = len(np.unique(truth)) - 1
    assert s["Objects (truth)"] == s["TP"] == n and s["FP"] == s["FN"] == 0
    for k in ("IoU", "Dice", "F1@0.5", "Matched IoU", "Inst. IoU (pred)", "SEG", "SEG*", "DET",
              "Center F1", "Youden J"):
        assert s[k] == pytest.approx(1.0), k
    for k in ("Pixel error", "Rand error", "Info error", "delta_d", "delta_r",
              "Center residual", "MinFeret mean err", "MinFeret D90 err", "MinFeret KS"):
        assert s[k] == pytest.approx(0.0, abs=1e-12), k
    assert s["p ECD"] > 0.5      # Monte-Carlo folds compare random subsets


def test_evaluate_degraded_segmentation_scores_worse():
    truth = _scene()
    pred = ndi.label(ndi.binary_erosion(truth > 0, iterations=2))[0]
    s = M.evaluate(pred, truth, pixel_size=2.0).scores
    assert 0.3 < s["IoU"] < 0.95 and s["Precision"] == 1.0
    # every surviving particle shrank: the largest ones set D90
    assert s["MinFeret D90 err"] < 0 and s["delta_d"] > 0.05
    assert math.isnan(s["Youden J"])


def test_fru_net_table_pools_two_images_by_hand():
    shape = (80, 80)
    # image 1: two true discs, one found exactly, one missed; a false positive
    t1 = disc(shape, (20, 20), 10) + disc(shape, (55, 55), 12, value=2)
    p1 = disc(shape, (20, 20), 10) + disc(shape, (60, 15), 8, value=3)
    # image 2: one true disc found smaller (radius 12 -> 9)
    t2 = disc(shape, (40, 40), 12)
    p2 = disc(shape, (40, 40), 9)
    e1, e2 = M.evaluate(p1, t1, pixel_size=1.5), M.evaluate(p2, t2, pixel_size=1.5)
    row = M.fru_net_scores([e1, e2])
    assert list(row) == list(M.FRU_NET_COLUMNS)
    jac = e2.scores["SEG*"]                                # the one Jaccard of image 2
    assert jac == pytest.approx((9 / 12) ** 2, abs=0.03)
    assert row["SEG"] == pytest.approx((1 + 0 + jac) / 3)        # over the 3 true vesicles
    assert row["SEG*"] == pytest.approx((1 + jac) / 2)           # over the 2 detected
    assert row["DET"] == pytest.approx((2 * e1.scores["DET"] + e2.scores["DET"]) / 3)
    assert row["TP"] == 2 and row["FP"] == 1 and row["FP ratio"] == pytest.approx(1 / 3)
    d2 = 1 - e2.pred_table["ECD"][0] / e2.truth_table["ECD"][0]
    assert row["delta_d"] == pytest.approx(d2 / 2)               # exact pair and the shrunk one
    assert 0 <= row["p d (all)"] <= 1 and 0 <= row["p r (TP)"] <= 1
    assert M.fru_net_scores(e1)["TP"] == 1                       # one image alone
    with pytest.raises(TypeError, match="evaluations"):
        M.fru_net_scores([])


def test_evaluate_masks_and_connectivity():
    truth = np.zeros((10, 10), np.uint8)
    truth[1:4, 1:4] = 255
    truth[4:7, 4:7] = 255     # touches the first square only at a corner
    s8 = M.evaluate(truth, truth, connectivity=8).scores
    s4 = M.evaluate(truth, truth, connectivity=4).scores
    assert s8["Objects (truth)"] == 1 and s4["Objects (truth)"] == 2
    # an empty prediction is a legitimate (bad) result
    s = M.evaluate(np.zeros_like(truth), truth, connectivity=4).scores
    assert s["TP"] == 0 and s["FN"] == 2 and s["F1@0.5"] == 0 and s["DET"] == 0
    assert math.isnan(s["MinFeret mean err"])


def test_evaluate_real_masks_against_themselves(bam_dir):
    from emseg.workflows import load_labels

    path = sorted((bam_dir / "masks").glob("*_m.tif"))[0]
    mask = load_labels(path)[0][:704]
    s = M.evaluate(mask, mask, connectivity=4, pixel_size=7.344).scores
    assert s["F1@0.5"] == 1 and s["DET"] == 1 and s["Rand error"] == 0
    # erode every particle by one pixel: a particle stays matched exactly when
    # it keeps at least half of its pixels (its IoU with itself eroded)
    truth = M.to_instances(mask, connectivity=4)
    eroded = ndi.grey_erosion(truth, size=3) * (ndi.grey_dilation(truth, size=3) == truth)
    ids = np.arange(1, truth.max() + 1)
    kept = ndi.sum_labels(eroded > 0, truth, ids) / ndi.sum_labels(truth > 0, truth, ids)
    s = M.evaluate(eroded, truth, pixel_size=7.344).scores
    assert s["TP"] == np.count_nonzero(kept >= 0.5)
    assert s["FP"] == np.count_nonzero((kept > 0) & (kept < 0.5))   # too small to match
    assert s["Precision"] == 1                                        # pixel level
    # every surviving particle shrank: the largest ones set D90
    assert s["MinFeret D90 err"] < 0 and s["delta_d"] > 0


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize("call, match", [
    (lambda: M.pixel_scores(np.zeros((3, 3)), np.zeros((3, 3), int)), "pred must be an integer"),
    (lambda: M.pixel_scores(np.zeros((3, 3), int), np.zeros((3, 4), int)), "pred shape"),
    (lambda: M.match_instances(np.zeros(5, int), np.zeros(5, int)), "pred must be 2D or 3D"),
    (lambda: M.match_instances(-np.ones((2, 2), int), np.ones((2, 2), int)), "pred must not contain negative"),
    (lambda: M.match_instances(np.ones((2, 2), int), np.ones((2, 2), int), iou_threshold=1.5), "iou_threshold"),
    (lambda: M.match_instances(np.ones((2, 2), int), np.ones((2, 2), int), iou_threshold=0), "iou_threshold"),
    (lambda: M.roc_curve(np.zeros((2, 3)), np.zeros((2, 2), int)), "prob shape"),
    (lambda: M.roc_curve(np.full((2, 2), np.nan), np.zeros((2, 2), int)), "prob contains NaN"),
    (lambda: M.ctc_det(np.ones((2, 2), int), np.ones((2, 2), int), weights={"merge": 1}), "weights"),
    (lambda: M.ratio_error([1, 2], [1]), "differ in length"),
    (lambda: M.ratio_error([-1], [1]), "non-negative"),
    (lambda: M.wilcoxon_mc([1, 2, 3], [1, 2], fold_size=1), "fold_size"),
    (lambda: M.distribution_errors([1, np.nan], [1]), "pred_values contains NaN"),
    (lambda: M.to_instances(np.ones((3, 3), bool), connectivity=6), "connectivity"),
    (lambda: M.evaluate(np.ones((2, 2, 2), int), np.ones((2, 2, 2), int)), "pred must be 2D"),
    (lambda: M.evaluate(np.ones((4, 4), int), np.ones((4, 4), int), column="Size"), "column"),
    (lambda: M.center_detection(np.ones((2, 2, 2), int), np.ones((2, 2, 2), int),
                                pixel_size=(1, 2)), "pixel_size"),
    (lambda: M.class_scores(np.zeros((2, 2), int), np.zeros((2, 2), int)), "classes"),
])
def test_errors_name_the_argument(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()


def test_confusion_matrix_pools_images_and_skips_no_class():
    from emseg.metrics import confusion_matrix, confusion_scores

    truth = np.array([[0, 0, 1, 1], [2, 2, 2, 255]], np.uint8)
    pred = np.array([[0, 1, 1, 1], [2, 2, 0, 2]], np.uint8)
    c = confusion_matrix(pred, truth, 3)
    assert c.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 2]]      # the 255 pixel is not counted
    s = confusion_scores(c + c, ["a", "b", "c"])                 # two identical images pooled
    assert s.loc["a", "IoU"] == pytest.approx(2 / 6)             # TP 2, FP 2, FN 2
    assert s.loc["b", "Dice"] == pytest.approx(2 * 4 / (2 * 4 + 2))
    assert s.loc["c", "Recall"] == pytest.approx(2 / 3) and s.loc["c", "Precision"] == 1
    assert s.loc["mean", "IoU"] == pytest.approx(np.mean(s.IoU[:3]))
    assert s.loc["mean", "Support"] == 14
    with pytest.raises(ValueError, match="square matrix"):
        confusion_scores(np.ones((2, 3), int))
    with pytest.raises(ValueError, match="2 names for 3 classes"):
        confusion_scores(c, ["a", "b"])


def test_mean_class_iou_scores_the_argmax_over_all_classes():
    from emseg.metrics import class_scores, mean_class_iou

    truth = np.array([[0, 0, 1, 1], [2, 2, 2, 0]])
    pred = np.array([[0, 1, 1, 1], [2, 2, 0, 2]])
    prob = np.eye(3)[pred] * 0.6 + 0.1                           # arg-max = pred
    expected = class_scores(pred, truth, classes=[0, 1, 2]).loc["mean", "IoU"]
    assert mean_class_iou(prob, truth) == pytest.approx(expected)
    assert mean_class_iou(np.eye(3)[truth], truth) == 1.0
    with pytest.raises(ValueError, match="probabilities must have a last axis"):
        mean_class_iou(np.zeros((2, 4, 1)), truth)
