import numpy as np
import pytest

from emseg.segment.blockcache import BlockCache, plane_cache


def _random_box(rng, shape):
    box = []
    for n in shape:
        a = int(rng.integers(0, n))
        box.append(slice(a, int(rng.integers(a + 1, n + 1))))
    return tuple(box)


@pytest.mark.parametrize("budget", [0, 3 * 5 * 7 * 8 * 4, 10 ** 9])
def test_boxes_through_the_cache_equal_the_array_itself(budget):
    """Reads see earlier writes and the flushed array is what direct slicing gives, whether
    every block is evicted at once (budget 0), a few stay, or all do."""
    rng = np.random.default_rng(0)
    shape = (13, 22, 17)
    ref = rng.integers(0, 100, shape).astype(np.int32)
    backing = ref.copy()
    cache = BlockCache(backing, (3, 5, 7), budget_bytes=budget)
    for step in range(300):
        box = _random_box(rng, shape)
        if step % 3:
            np.testing.assert_array_equal(cache[box], ref[box])
        else:
            value = rng.integers(0, 100, ref[box].shape).astype(np.int32)
            ref[box] = value
            cache[box] = value
    cache.flush()
    np.testing.assert_array_equal(backing, ref)
    np.testing.assert_array_equal(cache[:, 2:9], ref[:, 2:9])
    cache[1:3] = 7                                  # a scalar fills the box
    ref[1:3] = 7
    cache.clear()
    np.testing.assert_array_equal(backing, ref)


def test_a_zarr_array_is_read_once_per_block_not_once_per_box():
    zarr = pytest.importorskip("zarr")
    shape = (40, 96, 96)
    data = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    z = zarr.create_array(store={}, shape=shape, chunks=(8, 32, 32), dtype=np.float32)
    z[...] = data
    cache = plane_cache(z, planes=40, block_planes=8, block_side=48)
    boxes = [(slice(a, a + 6), slice(b, b + 10), slice(c, c + 10))
             for a in range(0, 34, 3) for b in range(0, 86, 20) for c in range(0, 86, 20)]
    for box in boxes:
        np.testing.assert_array_equal(cache[box], data[box])
    assert cache.reads == 5 * 2 * 2 < len(boxes)
    assert cache.writes == 0


def test_bad_arguments_are_refused():
    a = np.zeros((4, 5))
    with pytest.raises(ValueError, match="block_shape"):
        BlockCache(a, (2,), budget_bytes=10)
    with pytest.raises(ValueError, match="budget_bytes"):
        BlockCache(a, (2, 2), budget_bytes=-1)
    cache = BlockCache(a, (2, 2), budget_bytes=10)
    with pytest.raises(IndexError, match="step 1"):
        cache[::2]
    with pytest.raises(IndexError, match="tuple of slices"):
        cache[1, 2]
