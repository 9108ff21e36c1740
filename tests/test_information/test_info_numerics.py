"""fp32 island: low-precision inputs and autocast still give finite fp32
results; no overflow."""
import pytest
import torch

from muse_det.information import (ENTROPY_ESTIMATORS, MI_ESTIMATORS,
                                  PAIR_LOSSES, DVEstimator, build_pair_loss)

LOW = [torch.float16, torch.bfloat16]


@pytest.mark.parametrize('dtype', LOW)
@pytest.mark.parametrize('name', sorted(MI_ESTIMATORS))
def test_mi_low_precision_inputs(name, dtype):
    scores = (torch.randn(16, 16) * 3).to(dtype).requires_grad_(True)
    value = MI_ESTIMATORS[name]()(scores)
    assert value.dtype == torch.float32 and torch.isfinite(value)
    value.backward()
    assert scores.grad.dtype == dtype


@pytest.mark.parametrize('dtype', LOW)
@pytest.mark.parametrize('name', sorted(ENTROPY_ESTIMATORS))
def test_entropy_low_precision_inputs(name, dtype):
    z = torch.randn(64, 8).to(dtype)
    value = ENTROPY_ESTIMATORS[name]()(z)
    assert value.dtype == torch.float32 and torch.isfinite(value)


@pytest.mark.parametrize('name', sorted(MI_ESTIMATORS) + ['dv_ema'])
def test_large_logits_do_not_overflow(name):
    est = DVEstimator(
        ema_momentum=0.99) if name == 'dv_ema' else MI_ESTIMATORS[name]()
    # twice: the EMA path's second step uses the stored average
    for _ in range(2):
        scores = (torch.randn(32, 32) * 1e4).requires_grad_(True)
        value = est(scores)
        value.backward()
        assert torch.isfinite(value) and torch.isfinite(scores.grad).all()


@pytest.mark.parametrize('name', sorted(PAIR_LOSSES))
def test_pair_losses_under_autocast(name):
    loss = build_pair_loss(dict(type=name, num_samples=8), 8, 16)
    s, t = torch.randn(
        2, 8, 8, 8, requires_grad=True), torch.randn(2, 16, 4, 4)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = loss(s, t)
    assert all(v.dtype == torch.float32 and torch.isfinite(v)
               for v in out.values())
    out['loss'].backward()
    assert torch.isfinite(s.grad).all()
