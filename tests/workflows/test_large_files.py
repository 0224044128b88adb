"""``emseg segment --chunk-size``: a mosaic read in parts and segmented chunk by chunk gives
the whole-image run's table byte for byte and its labels, written as tiled BigTIFFs; the same
with the chunks as Dask tasks; an image over the size limit is chunked by default."""

import subprocess
import sys

import numpy as np
import pytest
import tifffile

from emseg.io import open_lazy_image, read_image, write_tiled_tiff

from conftest import chunk_scene as scene


def run(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "emseg", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def mosaic(tmp_path_factory):
    """A tiled, compressed TIFF (read through zarr) and an uncompressed one (memory-mapped)."""
    folder = tmp_path_factory.mktemp("mosaic")
    image = scene((290, 330), seed=4, databar=40)
    tiled = folder / "tiled.tif"
    tifffile.imwrite(tiled, image, tile=(64, 64), compression="zlib", imagej=False,
                     resolution=(1e7 / 4.3, 1e7 / 4.3), resolutionunit="CENTIMETER")
    plain = folder / "plain.tif"
    tifffile.imwrite(plain, image, imagej=True, resolution=(1 / 4.3, 1 / 4.3),
                     metadata={"unit": "nm"})
    return folder, image


def write_ome_zarr(path, image, pixel_size_um):
    """An OME-Zarr image (NGFF 0.4, as bioformats2raw, napari and Fiji's exporters write
    them): one level, axes in micrometres, a scale transform."""
    import zarr

    group = zarr.open_group(str(path), mode="w", zarr_format=2)
    level = group.create_array("0", shape=image.shape, dtype=image.dtype, chunks=(64, 64))
    level[:] = image
    group.attrs["multiscales"] = [{
        "version": "0.4", "name": "mosaic",
        "axes": [{"name": n, "type": "space", "unit": "micrometer"} for n in "yx"],
        "datasets": [{"path": "0", "coordinateTransformations": [
            {"type": "scale", "scale": [pixel_size_um, pixel_size_um]}]}]}]


def test_lazy_image_reads_parts_with_the_calibration(mosaic, tmp_path):
    folder, image = mosaic
    write_ome_zarr(tmp_path / "m.ome.zarr", image, 0.0043)
    with open_lazy_image(tmp_path / "m.ome.zarr") as lazy:
        assert lazy.shape == image.shape and lazy.pixel_size == pytest.approx((4.3, 4.3))
        assert lazy.metadata["pixel_size_source"] == "OME-Zarr scale"
        np.testing.assert_array_equal(lazy[30:90, 100:170], image[30:90, 100:170])
    with open_lazy_image(folder / "plain.tif") as lazy:
        assert isinstance(lazy._array, np.memmap) and lazy.pixel_size == pytest.approx((4.3, 4.3))
        np.testing.assert_array_equal(lazy[100:150, 7:300], image[100:150, 7:300])
    with open_lazy_image(folder / "tiled.tif") as lazy:
        assert not isinstance(lazy._array, np.ndarray) and lazy.shape == image.shape
        np.testing.assert_array_equal(lazy[::7, 13:200], image[::7, 13:200])
    tiles = (image[r:r + 64, c:c + 64] for r in range(0, 330, 64) for c in range(0, 330, 64))
    write_tiled_tiff(folder / "w.tif", tiles, image.shape, image.dtype, (2.0, 2.0), tile=64)
    back, size, _ = read_image(folder / "w.tif")
    np.testing.assert_array_equal(back, image)
    assert size == pytest.approx((2.0, 2.0))


def test_chunked_cli_equals_the_whole_image_run(mosaic, tiny_model, tmp_path):
    folder, _ = mosaic
    whole = tmp_path / "whole"
    r = run("segment", folder / "plain.tif", "--model", tiny_model.path, "-o", whole)
    assert r.returncode == 0, r.stderr[-3000:]
    write_ome_zarr(tmp_path / "mosaic.ome.zarr", read_image(folder / "plain.tif")[0], 0.0043)
    for name, source, extra in (("chunks", "tiled.tif", []),
                                ("dask", "plain.tif", ["--dask", "--dask-workers", "2"]),
                                ("zarr", str(tmp_path / "mosaic.ome.zarr"), [])):
        out = tmp_path / name
        r = run("segment", folder / source, "--model", tiny_model.path, "-o", out,
                "--chunk-size", "96", "--chunk-margin", "64", *extra)
        assert r.returncode == 0, r.stderr[-3000:]
        assert "16 chunks of 96 px" in r.stdout and "data bar from row 290" in r.stdout
        stem = {"zarr": "mosaic"}.get(name, source[:-4])
        assert ((out / f"{stem}_results.csv").read_bytes()
                == (whole / "plain_results.csv").read_bytes())
        labels = read_image(out / f"{stem}_labels.tif")[0]
        np.testing.assert_array_equal(labels, read_image(whole / "plain_labels.tif")[0])
        np.testing.assert_array_equal(read_image(out / f"{stem}_prob.tif")[0],
                                      read_image(whole / "plain_prob.tif")[0])
        with tifffile.TiffFile(out / f"{stem}_labels.tif") as tif:
            assert tif.is_bigtiff and tif.pages[0].is_tiled
    assert labels.max() >= 20


def test_an_image_over_the_limit_is_chunked_by_default(mosaic, tiny_model, tmp_path,
                                                       monkeypatch):
    from emseg.models.saved import load_predictor
    from emseg.workflows import large, segment_to_folder

    folder, _ = mosaic
    monkeypatch.setattr(large, "LARGE_PIXELS", 100 * 100)
    model = load_predictor(tiny_model.path)
    done = []
    outcome = segment_to_folder(folder / "plain.tif", tmp_path, model, margin=64,
                                progress=lambda d, t: done.append((d, t)))
    assert outcome.error is None and "1 chunks of 2048 px" in outcome.lines[0]
    assert done[-1] == (1, 1)
    with tifffile.TiffFile(tmp_path / "plain_labels.tif") as tif:
        assert tif.pages[0].is_tiled


def test_chunked_errors_are_one_line(mosaic, tiny_model, tmp_path):
    folder, _ = mosaic
    for args, message in [
        (["--chunk-size", "5"], "--chunk-size must be 16 to 1000000 pixels"),
        (["--chunk-size", "96", "--chunk-margin", "16"], "give a margin larger than the largest"),
    ]:
        r = run("segment", folder / "plain.tif", "--model", tiny_model.path, "-o",
                tmp_path / "o", *args)
        assert r.returncode == 2 and message in r.stderr, r.stderr[-2000:]
        assert "Traceback" not in r.stderr
        assert not (tmp_path / "o").exists() or not any(
            p for p in (tmp_path / "o").iterdir() if not p.name.startswith("."))
