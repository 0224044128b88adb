"""TensorFlow and Keras, imported once without their start-up noise.

TensorFlow 2.21 writes absl/oneDNN/CUDA notices to file descriptor 2 while it
is imported, before it reads ``TF_CPP_MIN_LOG_LEVEL``, so Python-level
redirection cannot catch them. The import therefore runs with descriptor 2
pointed at a temporary file; afterwards every captured line that is not one
of the known notices is written to stderr, so real errors still show.
Every EMSeg module that needs TensorFlow imports it from here.
"""

import os
import re
import sys
import tempfile

__all__ = ["tf", "keras", "is_startup_noise"]

#: Notices TensorFlow prints on every start (CPU features, missing GPU libraries).
_NOISE = re.compile(
    r"All log messages before absl::InitializeLog"
    r"|oneDNN custom operations are on"
    r"|Could not find cuda drivers|cuda drivers on your machine|failed call to cuInit"
    r"|Unable to register cu(DNN|FFT|BLAS) factory|computation placer already registered"
    r"|TensorFlow binary is optimized to use available CPU instructions"
    r"|rebuild TensorFlow with the appropriate compiler flags"
    r"|TF-TRT Warning|Could not find TensorRT"
    r"|Skipping registering GPU devices|Cannot dlopen some GPU libraries"
    r"|failed call to cuInit|CUDA error: Failed call to cuInit"
    r"|This TensorFlow binary is optimized")


def is_startup_noise(line):
    """True for a line of TensorFlow's start-up notices (never for a real error)."""
    return bool(_NOISE.search(line))


def _quiet_import():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # EMSeg's models are TensorFlow models: Keras 3 must not pick another backend from the
    # environment (bioimageio.core, for one, sets KERAS_BACKEND=torch when it is unset)
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = "tensorflow"
    if "tensorflow" in sys.modules:
        import keras
        import tensorflow
        return tensorflow, keras
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real descriptor 2 (embedded, pythonw)
        import keras
        import tensorflow
        return tensorflow, keras
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras
            import tensorflow
            # the first device query initialises CUDA, which logs its own failure on CPU machines
            tensorflow.config.list_physical_devices()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", "replace")
            kept = [ln for ln in text.splitlines(keepends=True)
                    if ln.strip() and not is_startup_noise(ln)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()
    return tensorflow, keras


tf, keras = _quiet_import()
