"""emseg.workflows.synthesize reads exactly its own run's fake masks."""

import numpy as np
import pytest

from emseg import io
from emseg.workflows.synthesize import _fake_masks


def test_only_this_runs_masks_are_read(tmp_path):
    (tmp_path / "fake-masks").mkdir()
    for k in range(5):                      # an earlier run with more images left 5
        io.write_labels(tmp_path / "fake-masks" / f"{k:04d}.tif",
                        np.full((8, 8), k, np.uint16), 8.0)
    masks = _fake_masks(tmp_path, 3)
    assert [int(m.max()) for m in masks] == [0, 1, 2]
    with pytest.raises(ValueError, match="0005.tif missing; run the masks step first"):
        _fake_masks(tmp_path, 6)
