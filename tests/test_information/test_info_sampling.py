"""Pair sampling and map alignment: a positive pair is one image point of
both features."""
import pytest
import torch

from muse_det.information import PairSampler, align_maps, centred_window_mean


def location_maps(b=2, h=4, w=4):
    """Maps whose every channel holds the location index (s) or 10 x it (t)."""
    idx = torch.arange(h * w, dtype=torch.float32).view(1, 1, h, w)
    return idx.expand(b, 3, h, w).clone(), (10 * idx).expand(b, 5, h,
                                                             w).clone()


def test_same_distinct_locations_for_both_sides():
    s, t = location_maps()
    v_s, v_t = PairSampler(
        num_samples=6, generator=torch.Generator().manual_seed(0))(s, t)
    assert v_s.shape == (12, 3) and v_t.shape == (12, 5)
    # row i of both: the same location
    assert torch.equal(v_t[:, 0], 10 * v_s[:, 0])
    for image in v_s[:, 0].view(2, 6):
        assert len(set(image.tolist())) == 6  # without replacement


def test_generator_makes_draws_reproducible():
    s, t = location_maps()
    a = PairSampler(6, generator=torch.Generator().manual_seed(3))(s, t)[0]
    b = PairSampler(6, generator=torch.Generator().manual_seed(3))(s, t)[0]
    c = PairSampler(6, generator=torch.Generator().manual_seed(4))(s, t)[0]
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_shifted_window_read_keeps_no_copy_of_the_map_for_backward():
    """The fine map's window read with a whole-pixel shift: the same values
    and gradients as shifting then pooling, without holding the shifted
    copy for backward."""
    from muse_det.information.alignment import shift_map, shifted_window_mean
    x = torch.randn(1, 8, 64, 64, requires_grad=True)
    weight = torch.randn(1, 8, 16, 16)

    def saved_bytes(fn):
        storages = {}

        def pack(t):
            storages[
                t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            out = fn()
        storages.pop(x.untyped_storage().data_ptr(), None)
        return out, sum(storages.values())

    plain, plain_bytes = saved_bytes(
        lambda: centred_window_mean(shift_map(x, (2, 1)), (4, 4)))
    read, read_bytes = saved_bytes(
        lambda: shifted_window_mean(x, (2, 1), (4, 4)))
    assert torch.equal(plain, read)
    g_plain, = torch.autograd.grad((plain * weight).sum(), x)
    g_read, = torch.autograd.grad((read * weight).sum(), x)
    assert torch.allclose(g_plain, g_read)
    assert plain_bytes >= x.numel() * 4 > read_bytes


def test_calls_on_one_grid_share_a_draw():
    """Pairs taught by one target sample its grid once per step: one draw
    (one advance of the generator) for every call sharing ``draws``; a new
    grid or sample count draws anew."""
    s, t = location_maps()
    gen = torch.Generator().manual_seed(5)
    sampler = PairSampler(6, generator=gen)
    other_count = PairSampler(3, generator=gen)
    draws = {}
    first = sampler(s, t, draws=draws)[1]
    state = gen.get_state()
    again = sampler(s[:, :2], t, draws=draws)[1]
    assert torch.equal(first, again) and torch.equal(gen.get_state(), state)
    assert other_count(s, t, draws=draws)[1].shape == (6, 5)
    assert not torch.equal(gen.get_state(), state)
    # without a shared dict every call draws: same as a fresh sampler's
    # first and second draws
    ref = PairSampler(6, generator=torch.Generator().manual_seed(5))
    assert torch.equal(ref(s, t)[1], first)
    assert not torch.equal(ref(s, t)[1], first)


def test_box_weight_draws_locations_inside_boxes_more_often():
    """With w, a location inside a box is drawn as if w locations stood
    there: one draw of 1 location from 16 (4 inside) lands inside with
    probability 4w / (4w + 12); w = 1 is uniform."""
    s, t = location_maps(b=1, h=4, w=4)
    # strides 8: pixel (i, j) looks at (8i, 8j); the box covers rows and
    # columns 0..1, i.e. locations 0, 1, 4, 5
    boxes = [torch.tensor([[0., 0., 12., 12.]])]
    inside = {0, 1, 4, 5}
    for weight, expected in ((1.0, 4 / 16), (6.0, 24 / 36)):
        sampler = PairSampler(
            1,
            strides=(8, 8),
            box_weight=weight,
            generator=torch.Generator().manual_seed(0))
        hits = sum(
            int(sampler(s, t, boxes=boxes)[0][0, 0]) in inside
            for _ in range(3000))
        assert abs(hits / 3000 - expected) < 0.03, (weight, hits)
    # a huge weight fills the sample from the boxes first, without
    # replacement
    sampler = PairSampler(6, strides=(8, 8), box_weight=1e6)
    drawn = sampler(s, t, boxes=boxes)[0][:, 0].tolist()
    assert inside <= set(drawn) and len(set(drawn)) == 6
    # no boxes (classification): uniform; padding is still never drawn
    assert PairSampler(
        16, strides=(8, 8), box_weight=4)(s, t)[0].shape == (16, 3)
    v_s = PairSampler(
        16, strides=(8, 8), box_weight=4)(
            s, t, img_shapes=[(16, 32)], boxes=boxes)[0]
    assert sorted(v_s[:, 0].tolist()) == list(range(8))


@pytest.mark.parametrize('box_weight', [0.5, float('inf'), True, '2'])
def test_box_weight_is_validated(box_weight):
    with pytest.raises(ValueError, match='box_weight must be a finite number'):
        PairSampler(8, box_weight=box_weight)


@pytest.mark.parametrize('num_samples', [None, 'all'])
def test_all_locations(num_samples):
    s, t = location_maps()
    v_s, _ = PairSampler(num_samples)(s, t)
    assert v_s.shape == (32, 3)
    # image-major, row-major locations
    assert v_s[:16, 0].tolist() == list(range(16))


def test_more_samples_than_locations_takes_each_location_once():
    s, t = location_maps()
    v_s, _ = PairSampler(num_samples=100)(s, t)
    assert v_s.shape == (32, 3)
    for image in v_s[:, 0].view(2, 16):
        assert sorted(image.tolist()) == list(range(16))


def test_finer_map_is_read_at_the_coarse_pixel_centre():
    # stride 4 student (8x8) and stride 8 target (4x4): target pixel i sits on
    # student pixel 2i
    fine = torch.arange(64, dtype=torch.float32).view(1, 1, 8, 8)
    coarse = torch.randn(1, 2, 4, 4)
    a_s, a_t, stride = align_maps(
        fine, coarse, strides=(4, 8), fine_read='pixel')
    # the coarse map on its native grid
    assert torch.equal(a_t, coarse) and stride == 8
    assert torch.equal(a_s, fine[:, :, ::2, ::2])  # the pixel itself
    # the window around it (default)
    w_s, _, _ = align_maps(fine, coarse, strides=(4, 8))
    assert w_s.shape == (1, 1, 4, 4)
    # window of fine pixels centred on (2i, 2j): rows 2i-1..2i+1
    # (inside the map)
    assert w_s[0, 0, 1, 2].item() == fine[0, 0, 1:4, 3:6].mean().item()
    assert w_s[0, 0, 0, 0].item() == fine[0, 0, 0:2, 0:2].mean().item()
    # the old cell-centre convention averaged the 2x2 block 2i..2i+1:
    # a different point
    assert w_s[0, 0, 1, 2].item() != fine[0, 0, 2:4, 4:6].mean().item()


def test_coarse_map_is_never_upsampled():
    s, t = torch.randn(2, 3, 16, 16), torch.randn(2, 5, 2, 2)
    # grid finer than native: no-op
    a_s, a_t, _ = align_maps(s, t, strides=(8, 64), grid=16)
    assert a_t.shape == (2, 5, 2, 2) and torch.equal(a_t, t)
    assert a_s.shape == (2, 3, 2, 2)


def test_grid_only_coarsens():
    s, t = torch.randn(1, 3, 16, 16), torch.randn(1, 5, 8, 8)
    a_s, a_t, stride = align_maps(
        s, t, strides=(8, 16), grid=4, fine_read='pixel')
    assert a_s.shape == (1, 3, 4, 4) and a_t.shape == (1, 5, 4,
                                                       4) and stride == 32
    assert torch.allclose(a_t, centred_window_mean(t, (2, 2)))
    # the student pixel at each new centre
    assert torch.equal(a_s, s[:, :, ::4, ::4])
    w_s, _, _ = align_maps(s, t, strides=(8, 16), grid=4)
    assert torch.allclose(w_s, centred_window_mean(s, (4, 4)))


def test_offsets_move_the_fine_read_by_whole_pixels():
    fine = torch.arange(64, dtype=torch.float32).view(1, 1, 8, 8)
    coarse = torch.randn(1, 2, 4, 4)
    # the fine map's pixels look 4 px (one fine pixel) up-left of S * i: read
    # one pixel further
    offsets = ((-4.0, -4.0), (0.0, 0.0))
    p_s, _, _ = align_maps(
        fine, coarse, (4, 8), fine_read='pixel', offsets=offsets)
    assert torch.equal(p_s[0, 0, :3, :3], fine[0, 0, 1:7:2, 1:7:2])
    w_s, _, _ = align_maps(fine, coarse, (4, 8), offsets=offsets)
    assert w_s[0, 0, 1, 1].item() == fine[0, 0, 2:5, 2:5].mean().item()


def test_non_integer_stride_ratio_reads_the_nearest_pixel():
    fine = torch.arange(38 * 38, dtype=torch.float32).view(1, 1, 38, 38)
    coarse = torch.randn(1, 2, 10, 10)
    a_s, _, _ = align_maps(fine, coarse, strides=(300 / 38, 30.0))
    ratio = 30.0 / (300 / 38)
    i, j = 3, 7
    assert a_s[0, 0, i, j].item() == fine[0, 0,
                                          round(i * ratio),
                                          round(j * ratio)].item()


def test_padding_is_never_sampled():
    s, t = torch.randn(2, 3, 16, 16), torch.randn(2, 5, 4, 4)
    sampler = PairSampler(
        num_samples=100, strides=(8, 32), generator=torch.Generator())
    # image 0 fills 100 x 60 px of the 128 x 128 batch: target rows
    # ceil(100/32)=4, cols 2
    images, locations = sampler.draw(2, (4, 4), [(4, 2), (4, 4)])
    rows, cols = locations // 4, locations % 4
    assert (images == 0).sum() == 8 and (images == 1).sum() == 16
    assert (cols[images == 0] < 2).all() and (rows[images == 0] < 4).all()
    v_s, v_t = sampler(s, t, img_shapes=[(100, 60), (128, 128)])
    assert v_t.shape == (24, 5)
    picked = {tuple(v.tolist()) for v in v_t[:8]}
    valid = {tuple(t[0, :, i, j].tolist()) for i in range(4) for j in range(2)}
    assert picked == valid


def test_pool_and_auto_modes():
    s, t = torch.randn(2, 3, 4, 4), torch.randn(2, 5)
    v_s, v_t = PairSampler(mode='pool')(s, torch.randn(2, 5, 2, 2))
    assert v_s.shape == (2, 3) and torch.allclose(v_s, s.mean((2, 3)))
    # auto, one side a vector: the map is pooled
    v_s, v_t = PairSampler()(s, t)
    assert v_s.shape == (2, 3) and v_t is t


def test_pairs_taught_by_one_coarser_target_share_its_samples():
    """Within one step (one ``draws``), every pair reading the same target map
    as the coarser side gets one tensor of target samples, also through a
    ``detach()`` view of the map; a target finer than its student is read
    where that student looks, so it is not shared."""
    t = torch.randn(2, 5, 4, 4)
    s_fine, s_finer = torch.randn(2, 3, 8, 8), torch.randn(2, 7, 16, 16)
    gen = torch.Generator().manual_seed(0)
    a = PairSampler(6, generator=gen, strides=(8, 16))
    b = PairSampler(6, generator=gen, strides=(4, 16))
    draws = {}
    _, t_a = a(s_fine, t, draws=draws)
    _, t_b = b(s_finer, t.detach(), draws=draws)
    assert t_a is t_b
    # the same values an unshared read gives
    fresh = PairSampler(
        6, generator=torch.Generator().manual_seed(0), strides=(4, 16))
    assert torch.equal(fresh(s_finer, t)[1], t_a)
    # a target carrying gradient is another tensor than its detached view
    t_grad = t.clone().requires_grad_()
    assert b(
        s_finer, t_grad, draws=draws)[1] is not b(
            s_finer, t_grad.detach(), draws=draws)[1]
    # finer target: each student reads it at its own points
    coarse_s = torch.randn(2, 3, 2, 2)
    c = PairSampler(4, generator=gen, strides=(32, 16))
    assert c(coarse_s, t, draws=draws)[1] is not c(coarse_s, t, draws=draws)[1]
    # no shared dict: nothing shared
    assert a(s_fine, t)[1] is not a(s_fine, t)[1]


def test_pooled_target_is_shared_within_a_step():
    t = torch.randn(2, 5, 4, 4)
    sampler = PairSampler(mode='pool')
    draws = {}
    one = sampler(torch.randn(2, 3, 8, 8), t, draws=draws)[1]
    assert one is sampler(torch.randn(2, 4, 4, 4), t, draws=draws)[1]
    assert torch.equal(one, t.mean(dim=(2, 3)))


def test_aligned_maps_are_zero_outside_each_image():
    """Map losses get both maps on the coarse grid, masked to each image's
    valid extent: a stride-8 grid of 4x4 over 32 px padded images, image 0
    valid 16 x 24 px (rows 0-1, columns 0-2), image 1 whole."""
    sampler = PairSampler(strides=(4, 8), fine_read='pixel')
    s = torch.rand(2, 3, 8, 8) + 1
    t = torch.rand(2, 5, 4, 4) + 1
    ms, mt = sampler.aligned_maps(s, t, img_shapes=[(16, 24), (32, 32)])
    assert ms.shape == (2, 3, 4, 4) and mt.shape == (2, 5, 4, 4)
    inside = torch.zeros(4, 4, dtype=torch.bool)
    inside[:2, :3] = True
    for m in (ms, mt):
        assert (m[0][:, ~inside] == 0).all() and (m[0][:, inside] > 0).all()
        assert (m[1] > 0).all()
    assert torch.equal(mt[1], t[1])
    # the student's pixel 2 i is the one that looks where target pixel i does
    assert torch.equal(ms[1], s[1][:, ::2, ::2])
