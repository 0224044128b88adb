"""Training pairs from the user's raw images and a few particle outlines: the BAM workflow
(paper 004) as four resumable steps in one folder.

1. ``shapes``: a WGAN-GP learns single-particle masks from the outlines (``DIR/shapes/``).
2. ``masks``: generated particles assembled into masks with agglomerates (``DIR/fake-masks/``).
3. ``cyclegan``: a CycleGAN between those masks and tiles of the user's images
   (``DIR/cyclegan/``).
4. ``generate``: fake micrographs from the masks, artifact particles dropped, written as
   ``DIR/images/NNNN.tif`` + ``DIR/masks/NNNN_m.tif`` (calibrated) for ``emseg train``.

``DIR/synthesize.json`` records the settings and the steps done; ``DIR/sheet.png`` shows
shapes, masks, fake images and filtered pairs, ``DIR/losses.png`` the GAN losses per epoch.
"""

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .. import io as _io
from .files import expand_folders, load_image, load_labels

__all__ = ["STEPS", "SynthesisSettings", "load_outlines", "synthesize"]

#: The steps, in order.
STEPS = ("shapes", "masks", "cyclegan", "generate")
STATE = "synthesize.json"


@dataclass(frozen=True)
class SynthesisSettings:
    """The workflow's options (defaults: the paper's, scaled to train on a laptop CPU)."""

    n_images: int = 100
    tile_size: int = 256
    shape_epochs: int = 300
    cyclegan_epochs: int = 10
    cyclegan_steps: int = 200
    particles: tuple = (100, 150)        # per image of the user's size (paper: 100-150)
    size_sd: float = 0.1
    noise_threshold: float = 0.5
    max_overlap: float = 0.5
    rotate: bool = True
    dark_background: bool = True
    artifact_method: str = "li"
    shape_filters: int = 32
    cyclegan_filters: int = 32
    cyclegan_blocks: int = 6
    seed: int = 0
    tiles_per_image: int = 40

    def __post_init__(self):
        from ..synthetic.assembly import ARTIFACT_METHODS, check_assembly_options

        for name in ("n_images", "tile_size", "shape_epochs", "cyclegan_epochs",
                     "cyclegan_steps", "shape_filters", "cyclegan_filters", "cyclegan_blocks",
                     "tiles_per_image"):
            v = getattr(self, name)
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= 1):
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if self.tile_size % 4 or self.tile_size < 32:
            raise ValueError(f"tile_size must be a multiple of 4 and at least 32, got {self.tile_size}")
        lo, hi = self.particles
        if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi):
            raise ValueError(f"particles must be LO,HI with 1 <= LO <= HI, got {self.particles!r}")
        if self.artifact_method not in ARTIFACT_METHODS:
            raise ValueError(f"artifact_method must be one of {', '.join(ARTIFACT_METHODS)}, "
                             f"got {self.artifact_method!r}")
        check_assembly_options(size_sd=self.size_sd, noise_threshold=self.noise_threshold,
                               max_overlap=self.max_overlap)


def load_outlines(path):
    """The particle outlines a user drew: ``(masks, pixel_size_nm or None, source)``.

    ``path`` is an ImageJ ROI set (``RoiSet.zip`` from Fiji's ROI Manager, or a ``.roi``) or a
    label image / binary mask of isolated particles (a binary mask is split into 4-connected
    particles, as manual BAM masks separate touching ones). Outlines under 4 pixels are left
    out; none left is an error.
    """
    from ..metrics import to_instances
    from scipy import ndimage as ndi

    path = Path(path)
    if path.suffix.lower() in _io.ROI_SUFFIXES:
        masks, size = [m for m, _ in _io.read_roi_masks(path)], None
    else:
        labels, size, _ = load_labels(path)
        labels = to_instances(labels, connectivity=4)
        masks = [labels[box] == k for k, box in enumerate(ndi.find_objects(labels), start=1)
                 if box is not None]
    masks = [m for m in masks if m.sum() >= 4]
    if not masks:
        raise ValueError(f"{path}: no particle outline of at least 4 pixels")
    return masks, (None if size is None else float(size[0])), str(path)


@dataclass
class _Images:
    """The user's images at one pixel size, scaled to [0, 1], data bars cut off."""

    images: list
    pixel_size: float
    skipped: list           # the files left out, with the reason


def _load_images(paths, pixel_size):
    from ..io import resolve_pixel_size
    from ..segment import detect_databar, rescale

    files = expand_folders(paths)
    if not files:
        raise ValueError("--images: no image files")
    loaded, sizes, skipped = [], [], []
    for p in files:
        # a batch goes on past a bad file: it is reported and left out
        try:
            image, size, meta = load_image(p)
        except (ValueError, TypeError, OSError) as exc:
            skipped.append(str(exc))
            continue
        px, _ = resolve_pixel_size(pixel_size, (size, meta))
        if px is None:
            raise ValueError(f"{p}: no pixel size in the file; give it with --pixel-size (nm)")
        bar = detect_databar(image)
        loaded.append((Path(p), image[:bar] if bar else image))
        sizes.append(float(px[0]))
    if not loaded:
        raise ValueError(f"--images: no readable image ({skipped[0]})")
    target = sizes[0]
    out = _Images([], target, skipped)
    values = np.concatenate([np.asarray(im, float).ravel()[::97] for _, im in loaded])
    lo, hi = np.percentile(values, [0.1, 99.9])
    for (_, image), px in zip(loaded, sizes):
        im = np.clip((np.asarray(image, np.float32) - lo) / max(hi - lo, 1e-6), 0, 1)
        if abs(px / target - 1) > 1e-3:
            im = rescale(im, px / target, order=1)
        out.images.append(im.astype(np.float32))
    return out


def _real_tiles(images, settings, rng):
    """Random tiles of the user's images, skipping those mostly background (under 10 % of
    their pixels on the particles' side of the images' Li threshold)."""
    from skimage.filters import threshold_li

    t = settings.tile_size
    th = threshold_li(np.concatenate([im.ravel()[::31] for im in images]))
    tiles = []
    for im in images:
        if min(im.shape) < t:
            raise ValueError(f"an image of {im.shape[1]} x {im.shape[0]} pixels is smaller than "
                             f"--tile-size {t}")
        got = 0
        for _ in range(settings.tiles_per_image * 3):
            r, c = (int(rng.integers(n - t + 1)) for n in im.shape)
            tile = im[r:r + t, c:c + t]
            fg = np.mean(tile > th) if settings.dark_background else np.mean(tile < th)
            if fg >= 0.1:
                tiles.append(tile)
                got += 1
                if got == settings.tiles_per_image:
                    break
    if not tiles:
        raise ValueError("every tile of the images is mostly background: check "
                         "--dark-background / --bright-background")
    return np.stack(tiles)


def _state(folder):
    p = Path(folder) / STATE
    return json.loads(_io.read_text(p)) if p.exists() else {"done": []}


def _save_state(folder, state):
    _io.write_text(Path(folder) / STATE, json.dumps(state, indent=1))


def synthesize(images, outlines, folder, settings=None, *, pixel_size=None, steps=None,
               resume=False, progress=None):
    """Run the workflow's steps in ``folder``.

    Parameters
    ----------
    images : sequence of path-like
        The user's raw micrographs (files or folders), used unlabelled.
    outlines : path-like
        See :func:`load_outlines`; needed by the ``shapes`` step.
    folder : path-like
    settings : SynthesisSettings, optional
    pixel_size : float, optional
        nm; overrides the files' calibration.
    steps : sequence of str, optional
        Some of :data:`STEPS` (default all, in order). A step needs the earlier steps'
        results in ``folder``.
    resume : bool, optional
        Skip the steps already done and continue an interrupted GAN training.
    progress : callable, optional
        ``progress(step, done, total, info)``.

    Returns
    -------
    dict
        The state: settings, steps done, counts, the pixel size.
    """
    from ..models.gan_training import (CycleGanConfig, ShapeGanConfig, _jsonable,
                                       generate_shapes, load_generator, train_cyclegan,
                                       train_shape_gan, translate)
    from ..synthetic.assembly import assemble_mask, clean_shape, filter_artifacts, shape_crops

    settings = settings or SynthesisSettings()
    if not isinstance(settings, SynthesisSettings):
        raise TypeError(f"settings must be SynthesisSettings, got {type(settings).__name__}")
    steps = list(STEPS if steps is None else steps)
    bad = [s for s in steps if s not in STEPS]
    if bad or not steps:
        raise ValueError(f"steps must be some of {', '.join(STEPS)}, got {steps!r}")
    folder = Path(folder)
    state = _state(folder)
    mine = _jsonable(asdict(settings))
    if state.get("settings") not in (None, mine):
        # its images and masks would mix with this run's in DIR/images and DIR/masks
        raise ValueError(f"{folder}: holds a run with other settings; use another --output")
    state["settings"] = mine
    def todo(step):
        return step in steps and not (resume and step in state["done"])

    real = _load_images(images, pixel_size)
    # the inputs are checked before anything is written
    outlines = load_outlines(outlines) if todo("shapes") else None
    state["pixel_size_nm"] = real.pixel_size
    state["skipped_images"] = real.skipped
    folder.mkdir(parents=True, exist_ok=True)
    report = (lambda *a: progress(*a)) if progress else (lambda *a: None)

    if todo("shapes"):
        masks, osize, source = outlines
        crops, scale = shape_crops(masks, 64)
        # outlines drawn at another pixel size than the images': sizes follow the images'
        if osize is not None:
            scale *= real.pixel_size / osize
        config = ShapeGanConfig(size=64, filters=settings.shape_filters, scale=scale,
                                pixel_size_nm=real.pixel_size)
        train_shape_gan(crops, config, folder / "shapes", epochs=settings.shape_epochs,
                        batch_size=64, seed=settings.seed,
                        resume=resume and (folder / "shapes" / "checkpoint").exists(),
                        progress=lambda e, n, entry: report("shapes", e, n, entry))
        state["outlines"] = {"source": source, "count": len(masks)}
        _done(folder, state, "shapes")
    if todo("masks"):
        gen, config = load_generator(folder / "shapes", "shapes")
        n = settings.n_images
        height, width = real.images[0].shape
        t = settings.tile_size
        lo, hi = settings.particles
        rng = np.random.default_rng([settings.seed, 1])
        generated = generate_shapes(gen, config, max(256, 2 * hi), seed=settings.seed)
        shapes = [s for s in (clean_shape(m, drop_border=True) for m in generated)
                  if s is not None]
        state["shapes"] = {"generated": len(generated), "kept": len(shapes)}
        if not shapes:
            # a GAN trained too briefly to draw whole particles: use what it draws, and say so
            shapes = [s for s in (clean_shape(m) for m in generated) if s is not None]
        if not shapes:
            raise ValueError("the shape GAN draws no particle; train it longer (--shape-epochs)")
        out = folder / "fake-masks"
        out.mkdir(exist_ok=True)
        for k in range(n):
            count = max(1, int(round(rng.uniform(lo, hi) * t * t / (height * width))))
            order = rng.permutation(len(shapes))
            mask = assemble_mask([shapes[i] for i in order], (t, t), count, scale=config.scale,
                                 size_sd=settings.size_sd, noise_threshold=settings.noise_threshold,
                                 max_overlap=settings.max_overlap, rotate=settings.rotate,
                                 seed=int(rng.integers(2 ** 31)))
            _io.write_labels(out / f"{k:04d}.tif", mask.labels, real.pixel_size)
            report("masks", k + 1, n, {"particles": int(mask.labels.max())})
        _done(folder, state, "masks")
    if todo("cyclegan"):
        fake = _fake_masks(folder, settings.n_images)
        tiles = _real_tiles(real.images, settings, np.random.default_rng([settings.seed, 2]))
        config = CycleGanConfig(tile_size=settings.tile_size, filters=settings.cyclegan_filters,
                                n_blocks=settings.cyclegan_blocks, pixel_size_nm=real.pixel_size,
                                dark_background=settings.dark_background)
        train_cyclegan(fake, tiles, config, folder / "cyclegan", epochs=settings.cyclegan_epochs,
                       steps_per_epoch=settings.cyclegan_steps, seed=settings.seed,
                       resume=resume and (folder / "cyclegan" / "checkpoint").exists(),
                       progress=lambda e, n, entry: report("cyclegan", e, n, entry))
        state["real_tiles"] = int(len(tiles))
        _done(folder, state, "cyclegan")
    if todo("generate"):
        fake = _fake_masks(folder, settings.n_images)
        gen, _ = load_generator(folder / "cyclegan", "images")
        out_i, out_m = folder / "images", folder / "masks"
        out_i.mkdir(exist_ok=True)
        out_m.mkdir(exist_ok=True)
        kept = dropped = 0
        sheet = []
        for k, labels in enumerate(fake):
            image = (translate(gen, labels)[0] * 255).round().astype(np.uint8)
            filtered, _, gone = filter_artifacts(image, labels, method=settings.artifact_method,
                                                 dark_background=settings.dark_background)
            _io.write_image(out_i / f"{k:04d}.tif", image, real.pixel_size)
            _io.write_labels(out_m / f"{k:04d}_m.tif",
                             np.where(filtered > 0, 255, 0).astype(np.uint8), real.pixel_size)
            kept, dropped = kept + int(filtered.max()), dropped + len(gone)
            if k < 4:
                sheet.append((labels, image, filtered))
            report("generate", k + 1, len(fake), {"kept": int(filtered.max())})
        state["pairs"] = len(fake)
        state["particles_kept"], state["particles_dropped"] = kept, dropped
        _write_pictures(folder, sheet, real)
        _done(folder, state, "generate")
    _save_state(folder, state)
    return state


def _fake_masks(folder, n):
    """This run's ``n`` masks (an earlier run with other settings may have left more)."""
    files = [Path(folder) / "fake-masks" / f"{k:04d}.tif" for k in range(n)]
    missing = [p.name for p in files if not p.exists()]
    if missing:
        raise ValueError(f"{folder}: fake mask {missing[0]} missing; run the masks step first")
    return [load_labels(p, allow_empty=True)[0].astype(np.int32) for p in files]


def _done(folder, state, step):
    if step not in state["done"]:
        state["done"].append(step)
    _save_state(folder, state)


def _write_pictures(folder, sheet, real):
    """``sheet.png`` (generated shapes, masks, fake images, filtered pairs) and
    ``losses.png`` (both GANs' losses per epoch)."""
    from ..plot import gan_losses, synthesis_sheet
    from ..models.gan_training import generate_shapes, load_generator

    gen, config = load_generator(Path(folder) / "shapes", "shapes")
    shapes = generate_shapes(gen, config, 16, seed=1)
    _io.write_png(Path(folder) / "sheet.png", synthesis_sheet(shapes, sheet, real.images[0]))
    import pandas as pd
    histories = {name: pd.read_csv(Path(folder) / name / "losses.csv")
                 for name in ("shapes", "cyclegan") if (Path(folder) / name / "losses.csv").exists()}
    _io.write_png(Path(folder) / "losses.png", gan_losses(histories))
