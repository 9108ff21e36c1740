"""Gradient balance: does distillation overpower the task on a layer, or
whisper to it?"""
from typing import Dict, Sequence

import torch


def total_task_loss(task_losses: dict):
    """The sum of the entries whose key contains ``loss``, as MMEngine's
    ``parse_losses`` forms it.

    Args:
        task_losses (dict[str, Tensor | list[Tensor]]): a loss dict; a list
            value (e.g. one loss per FPN level) is summed first.

    Returns:
        Tensor: the total, a scalar (the int 0 when no key contains
        ``loss``).
    """

    def flat(value):
        return sum(value) if isinstance(value, (list, tuple)) else value

    return sum(flat(v) for k, v in task_losses.items() if 'loss' in k)


def gradient_ratios(
        task_loss, distill_loss: torch.Tensor,
        features: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """``||dL_distill/dF|| / ||dL_task/dF||`` for every feature F: > 1,
    distillation dominates the layer; << 1, the task does.

    One extra backward of each loss down to the features, graphs retained;
    nothing accumulates into parameter gradients. Features without a gradient,
    or a task loss without a graph, give no entry.

    Args:
        task_loss (Tensor): the task loss, a scalar (see
            :func:`total_task_loss`).
        distill_loss (Tensor): the distillation loss, a scalar.
        features (dict[str, Tensor]): name -> feature in both graphs, e.g.
            shape (B, C, H, W).

    Returns:
        dict[str, Tensor]: name -> the ratio, a detached scalar; empty when
        the task loss has no graph.
    """
    names = [n for n, f in features.items() if f.requires_grad]
    if not names or not torch.is_tensor(
            task_loss) or not task_loss.requires_grad:
        return {}
    inputs = [features[n] for n in names]
    g_task = torch.autograd.grad(
        task_loss, inputs, retain_graph=True, allow_unused=True)
    g_dist = torch.autograd.grad(
        distill_loss, inputs, retain_graph=True, allow_unused=True)

    def norm(grad: Sequence) -> torch.Tensor:
        return grad.detach().norm(
        ) if grad is not None else inputs[0].new_zeros(())

    return {
        n: norm(gd) / norm(gt).clamp(min=1e-12)
        for n, gt, gd in zip(names, g_task, g_dist)
    }
