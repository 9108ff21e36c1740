"""Pair sampling and map alignment."""
import pytest
import torch

from muse_det.information import PairSampler, align_maps


def location_maps(b=2, h=4, w=4):
    """Maps whose every channel holds the location index (s) or 10 x it (t)."""
    idx = torch.arange(h * w, dtype=torch.float32).view(1, 1, h, w)
    return idx.expand(b, 3, h, w).clone(), (10 * idx).expand(b, 5, h, w).clone()


def test_same_distinct_locations_for_both_sides():
    s, t = location_maps()
    v_s, v_t = PairSampler(num_samples=6, generator=torch.Generator().manual_seed(0))(s, t)
    assert v_s.shape == (12, 3) and v_t.shape == (12, 5)
    assert torch.equal(v_t[:, 0], 10 * v_s[:, 0])  # row i of both: the same location
    for image in v_s[:, 0].view(2, 6):
        assert len(set(image.tolist())) == 6  # without replacement


def test_generator_makes_draws_reproducible():
    s, t = location_maps()
    a = PairSampler(6, generator=torch.Generator().manual_seed(3))(s, t)[0]
    b = PairSampler(6, generator=torch.Generator().manual_seed(3))(s, t)[0]
    c = PairSampler(6, generator=torch.Generator().manual_seed(4))(s, t)[0]
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize('num_samples', [None, 'all'])
def test_all_locations(num_samples):
    s, t = location_maps()
    v_s, _ = PairSampler(num_samples)(s, t)
    assert v_s.shape == (32, 3)
    assert v_s[:16, 0].tolist() == list(range(16))  # image-major, row-major locations


def test_common_grid_is_the_coarser_one_by_average_pooling():
    s, t = torch.randn(2, 3, 8, 6), torch.randn(2, 5, 4, 12)
    a_s, a_t = align_maps(s, t)
    assert a_s.shape == (2, 3, 4, 6) and a_t.shape == (2, 5, 4, 6)
    assert torch.allclose(a_s[:, :, 0, 0], s[:, :, :2, 0].mean(-1))  # 2x1 cell average
    assert torch.allclose(a_t[:, :, 0, 0], t[:, :, 0, :2].mean(-1))


def test_fixed_grid_upsamples_bilinearly():
    s, t = torch.randn(1, 2, 2, 2), torch.randn(1, 2, 8, 8)
    a_s, a_t = align_maps(s, t, grid=4)
    assert a_s.shape == a_t.shape == (1, 2, 4, 4)
    assert torch.allclose(a_s, torch.nn.functional.interpolate(s, size=(4, 4), mode='bilinear'))


def test_pool_and_auto_modes():
    s, t = torch.randn(2, 3, 4, 4), torch.randn(2, 5)
    v_s, v_t = PairSampler(mode='pool')(s, torch.randn(2, 5, 2, 2))
    assert v_s.shape == (2, 3) and torch.allclose(v_s, s.mean((2, 3)))
    v_s, v_t = PairSampler()(s, t)  # auto, one side a vector: the map is pooled
    assert v_s.shape == (2, 3) and v_t is t
