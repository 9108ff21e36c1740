"""Critics and adapters: shapes, the separable bound, chunking, the
conv-adapter equivalence."""
import pytest
import torch
from torch import nn

from muse_det.information import (ConcatCritic, MLPAdapter, SeparableCritic,
                                  build_adapter)


def test_separable_scores_are_bounded_cosines():
    critic = SeparableCritic(6, 5, proj_dim=4, tau=0.2)
    scores = critic(torch.randn(10, 6) * 1e3, torch.randn(10, 5))
    assert scores.shape == (10, 10)
    assert scores.abs().max() <= 1 / 0.2 + 1e-4


def test_separable_critic_without_heads_scores_the_embeddings():
    """proj_dim=None: cosines of the embeddings themselves / tau, no
    parameters; sizes must match and MLP heads make no sense."""
    critic = SeparableCritic(4, 4, proj_dim=None, tau=0.5)
    assert list(critic.parameters()) == []
    z_s, z_t = torch.randn(3, 4), torch.randn(5, 4)
    cosines = torch.tensor(
        [[float(torch.dot(a, b) / (a.norm() * b.norm())) for b in z_t]
         for a in z_s])
    assert torch.allclose(critic(z_s, z_t), cosines / 0.5, atol=1e-6)
    with pytest.raises(ValueError, match='sizes must match'):
        SeparableCritic(4, 5, proj_dim=None)
    with pytest.raises(ValueError, match='drop hidden or set proj_dim'):
        SeparableCritic(4, 4, proj_dim=None, hidden=8)


def test_concat_critic_matches_explicit_concatenation_and_chunking():
    torch.manual_seed(0)
    critic = ConcatCritic(3, 2, hidden=8)
    zs, zt = torch.randn(5, 3, requires_grad=True), torch.randn(5, 2)
    explicit = torch.stack([
        torch.stack([
            critic.out(
                torch.relu(
                    torch.cat([zs[i], zt[j]]) @ torch.cat(
                        [critic.a.weight, critic.b.weight], 1).t() +
                    critic.a.bias)).squeeze() for j in range(5)
        ]) for i in range(5)
    ])
    full = critic(zs, zt)
    assert torch.allclose(full, explicit, atol=1e-5)
    grad_full, = torch.autograd.grad(full.sum(), zs)
    critic.chunk_size = 2
    chunked = critic(zs, zt)
    grad_chunked, = torch.autograd.grad(chunked.sum(), zs)
    assert torch.allclose(full, chunked, atol=1e-6)
    assert torch.allclose(grad_full, grad_chunked, atol=1e-6)


def test_mlp_adapter_equals_conv_adapter_at_sampled_locations():
    # 1x1 conv -> BN -> ReLU -> 1x1 conv on the whole map, read at some
    # locations, equals the Linear adapter on those locations' vectors (eval
    # mode: BN uses the same running stats).
    torch.manual_seed(0)
    mlp = MLPAdapter(6, 4, hidden=5).eval()
    with torch.no_grad():
        mlp[1].running_mean.uniform_(-1, 1)
        mlp[1].running_var.uniform_(0.5, 2)
    conv = nn.Sequential(
        nn.Conv2d(6, 5, 1, bias=False), nn.BatchNorm2d(5), nn.ReLU(),
        nn.Conv2d(5, 4, 1)).eval()
    conv[0].weight.data = mlp[0].weight.data[:, :, None, None]
    conv[1].load_state_dict(mlp[1].state_dict())
    conv[3].weight.data = mlp[3].weight.data[:, :, None, None]
    conv[3].bias.data = mlp[3].bias.data
    x = torch.randn(2, 6, 3, 3)
    locations = [(0, 1, 2), (1, 0, 0), (1, 2, 1)]
    vectors = torch.stack([x[b, :, i, j] for b, i, j in locations])
    full = conv(x)
    assert torch.allclose(
        mlp(vectors),
        torch.stack([full[b, :, i, j] for b, i, j in locations]),
        atol=1e-6)


def test_build_adapter_kinds():
    assert isinstance(build_adapter(8, 4, 'linear')[0], nn.Linear)
    assert build_adapter(8, 4, dict(type='mlp',
                                    hidden=16))[0].out_features == 16
