"""Real-data benchmark of the classifier filter on the BAM TiO2 SEM images.

Data: ``../shared/data/bam-tio2`` (or ``$EMSEG_BAM_DATA``; licence CC BY-NC-ND,
read at run time, never committed): 24 SEM images (rows 0-703), manual
instance masks (4-connected components) and manual keep masks (``classes/``:
the particles an operator judged fit for size statistics).

Two settings, as in the BAM paper (Ruehle et al. 2021, Fig. 3):

(a) the manual instance masks are the input: which particles does a filter
    keep? Precision and recall of the kept particles against the manual
    keep set, and the relative error of the kept particles' mean, D10, D50
    and D90 MinFeret against the manual keep set's;
(b) end to end: EMSeg's default segmentation, then the filter. A kept
    particle is correct when it matches (IoU >= 0.5) a particle of the
    manual keep set; size errors again against the manual keep set.

Filters compared in the same run: keep everything, exclude border
particles, a rule filter (no border, Solidity >= 0.9: the best single
solidity cut-off on these images, so an optimistic peer), the classifier
(``--classifier``, default the bundled one trained on synthetic data only)
and, with ``--cross-validate WORK``, a classifier trained on BAM images
itself in two folds (even/odd images; each fold scored by the network that
did not see it; written to WORK, never to models/ -- the licence forbids
shipping it). All statistics are pooled over the particles of all images.

Run: ``python benchmarks/bam_classifier.py [--classifier NAME|PATH] [--end-to-end]
[--cross-validate WORK] [--images N] [--output DIR]``.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA_ROWS = 704
RULE = {"ranges": [("Solidity", 0.9, np.inf)], "exclude_border": True}


def load_bam(data, images=None):
    """The BAM images: dicts with stem, image, truth instances, keep mask, pixel size."""
    from emseg import io
    from emseg.metrics import to_instances

    out = []
    for path in sorted((Path(data) / "sem").glob("*.tif"))[:images]:
        image, size, _ = io.read_image(path)
        mask, _, _ = io.read_image(Path(data) / "masks" / f"{path.stem}_m.tif")
        keep, _, _ = io.read_image(Path(data) / "classes" / f"{path.stem}_cm.tif")
        out.append({"stem": path.stem, "image": image[:DATA_ROWS], "pixel_size": size,
                    "truth": to_instances(mask[:DATA_ROWS] > 0, connectivity=4).astype(np.int32),
                    "keep": keep[:DATA_ROWS] > 0})
    return out


def manual_keep_set(item):
    """Measurements of the manual instances with ``Fit`` (in the manual keep set)."""
    from emseg.measure import measure

    table = measure(item["truth"], item["image"], pixel_size=item["pixel_size"])
    lab = item["truth"].ravel()
    n = int(lab.max()) + 1
    fit = np.bincount(lab, weights=item["keep"].ravel(), minlength=n) > 0.5 * np.bincount(lab, minlength=n)
    table["Fit"] = fit[table["Label"].to_numpy()]
    return table


def size_errors(kept_values, reference_values):
    """Relative errors of mean, D10, D50, D90 (and KS) of kept vs reference MinFeret."""
    from emseg.metrics import distribution_errors

    e = distribution_errors(kept_values, reference_values)
    return {"mean err": e["mean"], "D10 err": e["D10"], "D50 err": e["median"],
            "D90 err": e["D90"], "KS": e["KS"]}


def score_filter(tables, reference):
    """Pooled precision/recall and size errors of filtered tables (``Kept``, ``Fit``)."""
    import pandas as pd

    t = pd.concat(tables, ignore_index=True)
    kept, fit = t["Kept"].to_numpy(bool), t["Fit"].to_numpy(bool)
    tp = int(np.sum(kept & fit))
    out = {"particles": len(t), "kept": int(kept.sum()),
           "precision": tp / kept.sum() if kept.any() else np.nan,
           "recall": tp / reference["n_fit"] if reference["n_fit"] else np.nan}
    out.update(size_errors(t.loc[kept, "MinFeret"], reference["minferet"]))
    return out


def _filters(classifiers):
    """name -> options of emseg.filter.apply_filters (scores added per image)."""
    filters = {"keep all": {}, "exclude border": {"exclude_border": True},
               "rule: no border, Solidity>=0.9": RULE}
    for name in classifiers:
        filters[name] = {"classifier": name}
    return filters


def run_filters(items, instance_tables, labels_key, classifiers, *, desc):
    """Apply every filter to each image's instances; returns name -> list of tables."""
    from tqdm import tqdm

    from emseg.filter import apply_filters, classify

    filters = _filters(classifiers)
    out = {name: [] for name in filters}
    seconds = {name: [] for name in classifiers}
    for item, table in tqdm(list(zip(items, instance_tables)), desc=desc, unit="image",
                            file=sys.stderr):
        for name, options in filters.items():
            scores, min_score = None, 0.5
            if "classifier" in options:
                predictor = classifiers[name][item["stem"]] if isinstance(classifiers[name], dict) \
                    else classifiers[name]
                t0 = time.perf_counter()
                res = classify(item["image"], item[labels_key], predictor, predictor.meta,
                               pixel_size=item["pixel_size"])
                seconds[name].append(time.perf_counter() - t0)
                scores, min_score = res.scores, res.threshold
            rule = {k: v for k, v in options.items() if k != "classifier"}
            out[name].append(apply_filters(table, scores=scores, min_score=min_score, **rule))
    return out, {k: float(np.mean(v)) for k, v in seconds.items() if v}


def cross_validate(items, work, *, epochs=8):
    """Train a classifier on the even and on the odd images; return stem -> predictor
    of the network that did not see the image."""
    from dataclasses import replace

    sys.path.insert(0, str(REPO / "python" / "scripts"))
    from train_default_classifier import CONFIG
    from emseg.models.saved import SavedModelPredictor, export_model
    from emseg.models.registry import ModelInfo
    from emseg.models.classifier_training import train_classifier

    work = Path(work)
    config = replace(CONFIG, name="bam-cv", description="BAM cross-validation (not for shipping)")
    by_stem = {}
    for fold in (0, 1):
        train = [it for i, it in enumerate(items) if i % 2 != fold]
        test = [it for i, it in enumerate(items) if i % 2 == fold]
        folder = work / f"fold{fold}"
        exported = work / f"bam-cv-fold{fold}"
        if not (exported / "model.yaml").exists():
            triples = [(it["image"], it["truth"], it["keep"], it["pixel_size"][0]) for it in train]
            result = train_classifier(triples, config, folder, epochs=epochs, batch_size=16,
                                      learning_rate=2e-3, patience=4, seed=fold,
                                      resume=(folder / "last.keras").exists(), verbose=2)
            info = export_model(result.model, replace(result.config, tile_size=512), exported,
                                overwrite=True)
        else:
            from emseg import io
            info = ModelInfo("bam-cv", exported, io.read_yaml(exported / "model.yaml"))
        predictor = SavedModelPredictor(info)
        for it in test:
            by_stem[it["stem"]] = predictor
    return by_stem


def end_to_end_tables(items, model=None):
    """Segment every image with EMSeg; measurements with ``Fit`` by the manual keep set."""
    from tqdm import tqdm

    from emseg.measure import measure
    from emseg.metrics import keep_reference
    from emseg.models.saved import load_predictor
    from emseg.segment import segment

    predictor = load_predictor(model, task="segmentation")
    tables = []
    for item in tqdm(items, desc="segment", unit="image", file=sys.stderr):
        seg = segment(item["image"], predictor, predictor.meta, pixel_size=item["pixel_size"],
                      keep_databar=True)
        item["pred"] = seg.labels
        table = measure(seg.labels, item["image"], pixel_size=item["pixel_size"])
        fit = keep_reference(seg.labels, item["truth"], item["keep"], iou_threshold=0.5)
        table["Fit"] = fit[table["Label"].to_numpy()]
        tables.append(table)
    return tables


def reference_of(manual_tables):
    import pandas as pd

    t = pd.concat(manual_tables, ignore_index=True)
    fit = t["Fit"].to_numpy(bool)
    return {"n_fit": int(fit.sum()), "minferet": t.loc[fit, "MinFeret"].to_numpy()}


def evaluate_classifier(data, classifier=None, *, images=None, end_to_end=True, cv_work=None,
                        cv_epochs=8):
    """Everything the benchmark reports, as dicts of rows (setting -> filter -> scores)."""
    from emseg.models.saved import load_predictor

    items = load_bam(data, images)
    predictor = load_predictor(classifier, task="classifier")
    classifiers = {f"classifier {predictor.info.name}": predictor}
    if cv_work is not None:
        classifiers["classifier trained on BAM (2-fold CV)"] = cross_validate(items, cv_work,
                                                                              epochs=cv_epochs)
    manual = [manual_keep_set(it) for it in items]
    reference = reference_of(manual)
    results, seconds = {}, {}
    filtered, sec = run_filters(items, manual, "truth", classifiers, desc="(a) manual instances")
    results["(a) manual instances"] = {k: score_filter(v, reference) for k, v in filtered.items()}
    seconds.update(sec)
    if end_to_end:
        tables = end_to_end_tables(items)
        filtered, _ = run_filters(items, tables, "pred", classifiers, desc="(b) end to end")
        rows = {k: score_filter(v, reference) for k, v in filtered.items()}
        results["(b) EMSeg segmentation"] = rows
    return items, reference, results, seconds, predictor


def classifier_scores(data, classifier, *, held_out_from=9):
    """Scores for the classifier's model.yaml: (a) on all images and on images
    ``held_out_from``-24 alone, (b) end to end, each with keep-all for reference."""
    from emseg.models.saved import load_predictor

    items = load_bam(data)
    predictor = load_predictor(classifier, task="classifier")
    name = f"classifier {predictor.info.name}"
    manual = [manual_keep_set(it) for it in items]
    filtered, seconds = run_filters(items, manual, "truth", {name: predictor},
                                    desc="(a) manual instances")
    tables = end_to_end_tables(items)
    e2e, _ = run_filters(items, tables, "pred", {name: predictor}, desc="(b) end to end")
    reference = reference_of(manual)
    held = slice(held_out_from - 1, None)
    held_reference = reference_of(manual[held])

    def pick(tables, ref):
        row = score_filter(tables, ref)
        return {k: round(float(row[k]), 4) for k in
                ("precision", "recall", "mean err", "D10 err", "D50 err", "D90 err")}
    return {"data": f"BAM TiO2 SEM, {len(items)} images, rows 0-{DATA_ROWS - 1}: manual instance "
                    "masks and keep masks (Ruehle et al. 2021; not used for training); "
                    f"{reference['n_fit']} particles in the manual keep set; MinFeret errors vs "
                    "the keep set's",
            "threshold": predictor.meta["threshold"],
            "manual instances": pick(filtered[name], reference),
            f"manual instances, images {held_out_from}-{len(items)}":
                pick(filtered[name][held], held_reference),
            "manual instances, keep all": pick(filtered["keep all"], reference),
            "manual instances, rule (no border, Solidity>=0.9)":
                pick(filtered["rule: no border, Solidity>=0.9"], reference),
            "end to end (emseg-particles-sem)": pick(e2e[name], reference),
            "end to end, keep all": pick(e2e["keep all"], reference),
            "seconds per image": round(seconds[name], 2)}


def format_results(results):
    import pandas as pd

    lines = []
    for setting, rows in results.items():
        table = pd.DataFrame(rows).T
        table.index.name = setting
        cols = ["particles", "kept", "precision", "recall", "mean err", "D10 err", "D50 err",
                "D90 err", "KS"]
        fmt = {c: (lambda v: f"{v:d}") for c in ("particles", "kept")}
        for c in cols[2:]:
            fmt[c] = (lambda v: f"{v:+.2%}") if c.endswith("err") else (lambda v: f"{v:.3f}")
        table[["particles", "kept"]] = table[["particles", "kept"]].astype(int)
        lines.append(table[cols].to_string(formatters=fmt))
    return "\n\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=Path(os.environ.get(
        "EMSEG_BAM_DATA", REPO.parent / "shared" / "data" / "bam-tio2")),
        help="the bam-tio2 folder (default ../shared/data/bam-tio2 or $EMSEG_BAM_DATA)")
    p.add_argument("--classifier", default=None, metavar="NAME|PATH",
                   help="classifier filter (default: the bundled emseg-classifier-sem)")
    p.add_argument("--images", type=int, default=None, metavar="N",
                   help="only the first N images (sorted by name)")
    p.add_argument("--end-to-end", action="store_true",
                   help="also segment with EMSeg's default model and filter that (b)")
    p.add_argument("--cross-validate", type=Path, metavar="WORK",
                   help="also train classifiers on BAM images in 2 folds (kept in WORK)")
    p.add_argument("--cv-epochs", type=int, default=8, help=argparse.SUPPRESS)
    p.add_argument("--output", type=Path, metavar="DIR",
                   help="write the scores (CSV) and a kept/discarded overlay PNG here")
    args = p.parse_args(argv)
    for sub in ("sem", "masks", "classes"):
        if not (args.data / sub).is_dir():
            p.exit(2, f"bam_classifier.py: error: no {sub}/ in {args.data}\n")
    if args.images is not None and args.images < 1:
        p.error("--images must be >= 1")
    if args.cross_validate is not None and (args.images or 24) < 2:
        p.error("--cross-validate needs at least 2 images")
    try:
        items, reference, results, seconds, predictor = evaluate_classifier(
            args.data, args.classifier, images=args.images, end_to_end=args.end_to_end,
            cv_work=args.cross_validate, cv_epochs=args.cv_epochs)
    except ValueError as exc:
        p.exit(2, f"bam_classifier.py: error: {exc}\n")
    print(f"BAM TiO2, {len(items)} SEM images, rows 0-{DATA_ROWS - 1}; manual keep set: "
          f"{reference['n_fit']} particles, mean MinFeret {np.mean(reference['minferet']):.1f} nm")
    print(format_results(results))
    print("classifier seconds per image (704x1024, this machine): "
          + ", ".join(f"{k} {v:.2f}" for k, v in seconds.items()))
    print("BAM paper: two operators 5 % apart in mean MinFeret; goal: |mean err| <= 2 %, "
          "precision >= 0.8")
    if args.output is not None:
        import pandas as pd

        from emseg import io
        from emseg.filter import apply_filters, classify
        from emseg.plot import filter_overlay
        args.output.mkdir(parents=True, exist_ok=True)
        rows = [{"setting": s, "filter": f, **v} for s, r in results.items() for f, v in r.items()]
        io.write_table(args.output / "bam_classifier.csv", pd.DataFrame(rows))
        item = items[0]
        res = classify(item["image"], item["truth"], predictor, predictor.meta,
                       pixel_size=item["pixel_size"])
        table = apply_filters(manual_keep_set(item), scores=res.scores, min_score=res.threshold)
        fig = filter_overlay(item["image"], item["truth"], table.loc[table["Kept"], "Label"],
                             title=f"{item['stem']}: {predictor.info.name} kept (green) / "
                                   "discarded (red), manual instances")
        io.write_png(args.output / f"bam_classifier_{item['stem']}.png", fig)
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
