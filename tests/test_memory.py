"""emseg._memory.release_pages: a shared memory map's pages are handed back without losing a
byte (read or written); copy-on-write maps and ordinary arrays are left alone."""

import numpy as np

from emseg._memory import release_pages


def _resident_kb():
    with open("/proc/self/status") as f:
        return int(dict(line.split(":", 1) for line in f)["RssFile"].split()[0])


def test_read_only_map_released_and_still_readable(tmp_path):
    data = np.random.default_rng(0).random((64, 256, 256)).astype(np.float32)   # 16 MiB
    data.tofile(tmp_path / "v.raw")
    m = np.memmap(tmp_path / "v.raw", np.float32, mode="r", shape=data.shape)
    before = _resident_kb()
    assert float(m.sum(dtype=np.float64)) == float(data.sum(dtype=np.float64))   # paged in
    paged = _resident_kb()
    assert release_pages(m[10:20, ::2])             # a view finds its map
    assert _resident_kb() < paged - 8 * 1024 and _resident_kb() <= before + 1024
    np.testing.assert_array_equal(m, data)          # paged in again from the file


def test_written_pages_survive_release(tmp_path):
    m = np.memmap(tmp_path / "w.raw", np.uint16, mode="w+", shape=(8, 512, 512))
    m[...] = np.arange(m.size, dtype=np.uint64).reshape(m.shape) % 65521
    assert release_pages(m)
    expected = np.arange(m.size, dtype=np.uint64).reshape(m.shape) % 65521
    np.testing.assert_array_equal(m, expected)      # the process sees what it wrote
    del m
    np.testing.assert_array_equal(np.fromfile(tmp_path / "w.raw", np.uint16).reshape(8, 512, 512),
                                  expected)


def test_copy_on_write_maps_and_plain_arrays_untouched(tmp_path):
    np.zeros(4096, np.uint8).tofile(tmp_path / "c.raw")
    c = np.memmap(tmp_path / "c.raw", np.uint8, mode="c")
    c[:] = 7                                        # changes that exist only in this process
    assert not release_pages(c) and not release_pages(c[10:])
    assert np.all(c == 7)
    a = np.ones(100)
    assert not release_pages(a) and np.all(a == 1)


def test_views_computed_on_read_release_the_map_they_wrap(tmp_path):
    """A rescaled view of a memory-mapped tomogram (what chunked runs tile) names the map it
    reads: releasing the view releases the map's pages; a wrapper of no map releases nothing."""
    from emseg.segment.large import RescaledView
    from emseg.segment.large_volume import VolumePlan

    data = np.random.default_rng(1).random((64, 256, 256)).astype(np.float32)
    data.tofile(tmp_path / "t.raw")
    m = np.memmap(tmp_path / "t.raw", np.float32, mode="r", shape=data.shape)
    view = RescaledView(m, VolumePlan(data.shape, data.shape))
    assert float(view[0:64].sum(dtype=np.float64)) == float(data.sum(dtype=np.float64))
    paged = _resident_kb()
    assert release_pages(view)
    assert _resident_kb() < paged - 8 * 1024
    assert not release_pages(RescaledView(data, VolumePlan(data.shape, data.shape)))


def test_peak_rss_is_the_process_own_not_its_parents():
    """A benchmark's child reports its own peak: ru_maxrss would carry the parent's (here a
    freed 768 MiB array) across fork and exec."""
    import subprocess
    import sys

    import numpy as np

    big = np.ones(768 * 2 ** 20 // 8)
    del big
    code = ("import resource; from emseg._memory import peak_rss; "
            "print(peak_rss(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)")
    own, inherited = map(int, subprocess.run([sys.executable, "-c", code], capture_output=True,
                                             text=True, check=True).stdout.split())
    assert 0 < own < 400 * 2 ** 20
    if sys.platform.startswith("linux"):
        assert inherited >= 768 * 2 ** 20 > own
