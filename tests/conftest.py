"""Shared fixtures.

Tests that need Java/ImageJ or the licensed data in ``../shared`` skip when
those are missing on a user's machine. CI sets ``EMSEG_REQUIRE_EXTERNAL=1``:
then such a test fails instead, so CI never passes by skipping.
"""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# EMSeg's networks are TensorFlow ones; bioimageio.core (the Zoo tests) would otherwise set
# KERAS_BACKEND=torch in this process and every subprocess started after it
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def pytest_configure(config):
    # Keras 3 on NumPy 2 (keras/src/backend/tensorflow/core.py), not EMSeg's code
    config.addinivalue_line(
        "filterwarnings",
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
    # npe2 (napari's pytest plugin loads it) and imodmodel on pydantic 2, not EMSeg's code
    config.addinivalue_line("filterwarnings",
                            "ignore::pydantic.warnings.PydanticDeprecatedSince20")


_SESSION = {}


def pytest_sessionfinish(session, exitstatus):
    _SESSION["status"] = int(exitstatus)


def pytest_unconfigure(config):
    # Python's teardown under a running JVM (ImageJ + TensorFlow threads) can abort with
    # "FATAL: exception not rethrown" after all tests passed, and so can TensorFlow's beside
    # Qt's OpenGL (napari; "free(): invalid pointer"); leave with pytest's own status.
    import sys
    jpype = sys.modules.get("jpype")
    jvm = jpype is not None and jpype.isJVMStarted()
    qt_and_tf = "tensorflow" in sys.modules and "PyQt5.QtWidgets" in sys.modules
    xvfb = _SESSION.get("xvfb")
    if (jvm or qt_and_tf or xvfb is not None) and "status" in _SESSION:
        sys.stdout.flush()
        sys.stderr.flush()
        if xvfb is not None:
            xvfb.terminate()
        os._exit(_SESSION["status"])


def skip_or_fail(reason):
    """Skip the test, or fail it when CI demands every external resource."""
    if os.environ.get("EMSEG_REQUIRE_EXTERNAL") == "1":
        pytest.fail(f"required external resource missing: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def offscreen_qt():
    """Qt's offscreen platform (``QT_QPA_PLATFORM=offscreen``) for napari's
    ``make_napari_viewer``. The viewer's canvas needs an OpenGL context, which the offscreen
    platform takes from an X display: a private Xvfb is started when there is none."""
    import shutil
    import subprocess

    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if os.environ.get("DISPLAY"):
        yield
        return
    if shutil.which("Xvfb") is None:
        skip_or_fail("Xvfb not installed (Debian: apt-get install xvfb); napari's canvas needs "
                     "an OpenGL context")
    read, write = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x1024x24",
                             "-nolisten", "tcp"], pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as f:
        number = f.readline().strip()
    if not number:
        proc.kill()
        skip_or_fail("Xvfb did not start")
    os.environ["DISPLAY"] = f":{number}"
    # stopped when pytest exits (pytest_unconfigure): Qt keeps its connection to the display
    # until the very end, and Xlib exits the process with an error if the display goes first
    _SESSION["xvfb"] = proc
    yield


@pytest.fixture(scope="session")
def bam_dir():
    """``../shared/data/bam-tio2`` (or ``$EMSEG_BAM_DATA``)."""
    base = Path(os.environ.get("EMSEG_BAM_DATA", REPO.parent / "shared" / "data" / "bam-tio2"))
    if not (base / "masks").is_dir():
        skip_or_fail(f"BAM TiO2 data not found at {base}")
    return base


@pytest.fixture(scope="module")
def fiji_ij():
    """ImageJ 1.x with the EMSeg plugin, this process its in-process backend."""
    from emseg.imagej.fiji import ImageJUnavailable, start
    try:
        return start()
    except ImageJUnavailable as exc:
        skip_or_fail(str(exc))


@pytest.fixture(scope="session")
def ij():
    """The ``ij`` Java package of a running ImageJ 1.x (JPype, headless)."""
    from emseg.imagej import ImageJUnavailable, start_imagej
    try:
        return start_imagej()
    except ImageJUnavailable as exc:
        skip_or_fail(str(exc))


def _easy_pairs(n, size=96, seed=0):
    """Bright particles on a dark background: learnable in seconds."""
    from emseg.synthetic import particle_labels, render_micrograph
    for i in range(n):
        lab = particle_labels((size, size), 12, radius=(5, 10), seed=seed + i)
        yield render_micrograph(lab, seed=seed + i), lab, 5.0


@pytest.fixture(scope="session")
def tiny_training(tmp_path_factory):
    """A tiny U-Net trained for a few epochs (folder with checkpoints, log, config)."""
    pytest.importorskip("tensorflow")
    from emseg.models import ModelConfig
    from emseg.models.training import train_model
    folder = tmp_path_factory.mktemp("training")
    config = ModelConfig(name="tiny", architecture="unet", classes=["particle", "boundary"],
                         base_filters=4, depth=2, tile_size=48, halo=8, pixel_size=5.0, dropout=0.0)
    result = train_model(_easy_pairs(6), config, folder, epochs=4, batch_size=4, learning_rate=3e-3,
                         verbose=0, seed=1)
    return result


@pytest.fixture(scope="session")
def tiny_model(tiny_training, tmp_path_factory):
    """The tiny model exported to a model folder; returns its ModelInfo."""
    from emseg.models.saved import export_model
    folder = tmp_path_factory.mktemp("models") / "tiny"
    return export_model(tiny_training.model, tiny_training.config, folder,
                        training={"data": "test"}, scores={"IoU": 0.0})


def classifier_examples(n, size=96, seed=0):
    """Small synthetic (image, labels, keep, pixel size) triples for classifier tests."""
    from emseg.synthetic import sem_classifier_example
    for i in range(n):
        ex = sem_classifier_example((size, size), pixel_size=8.0, diameter_nm=(100.0, 200.0),
                                    coverage=0.35, merge=0.2, split=0.1, seed=seed + i)
        yield ex.image, ex.labels, ex.keep, ex.pixel_size


@pytest.fixture(scope="session")
def tiny_classifier(tmp_path_factory):
    """A tiny MultiRes U-Net classifier, trained briefly and exported; returns its ModelInfo."""
    pytest.importorskip("tensorflow")
    from emseg.models import ModelConfig
    from emseg.models.saved import export_model
    from emseg.models.classifier_training import train_classifier
    folder = tmp_path_factory.mktemp("classifier-training")
    config = ModelConfig(name="tiny-classifier", architecture="multires_unet", task="classifier",
                         input_channels=2, classes=["keep"], base_filters=4, depth=2,
                         tile_size=48, halo=8, pixel_size=8.0, dropout=0.0)
    result = train_classifier(classifier_examples(6), config, folder, epochs=3, batch_size=8,
                              learning_rate=3e-3, verbose=0, seed=1)
    target = tmp_path_factory.mktemp("classifiers") / "tiny-classifier"
    return export_model(result.model, result.config, target, training={"data": "test"})


#: The chunk side of the chunked-segmentation tests
CHUNK = 96


def chunk_scene(shape, seed, databar=0):
    """A micrograph whose particles sit on the chunk grid's lines, plus a data bar."""
    import numpy as np

    from emseg.synthetic import particle_labels, render_micrograph

    rng = np.random.default_rng(seed)
    lab = particle_labels(shape, 25, radius=(5, 10), seed=seed)
    rr, cc = np.indices(shape)
    n = lab.max()
    for r in range(CHUNK, shape[0], CHUNK):
        for c in range(20, shape[1], 60):
            disc = (np.hypot(rr - r, cc - c) < rng.uniform(5, 9)) & (lab == 0)
            n += 1
            lab[disc] = n
    for c in range(CHUNK, shape[1], CHUNK):
        for r in range(30, shape[0], 70):
            disc = (np.hypot(rr - r, cc - c) < rng.uniform(5, 9)) & (lab == 0)
            n += 1
            lab[disc] = n
    image = render_micrograph(lab, seed=seed)
    if databar:
        bar = np.full((databar, shape[1]), 20, image.dtype)
        bar[databar // 3: databar // 3 + 4, 10:shape[1] // 3] = 230      # the scale bar
        image = np.concatenate([image, bar])
    return image
