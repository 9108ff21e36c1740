"""Top-k accuracy, as mmpretrain's ``Accuracy`` (keys ``accuracy/top1``, ``accuracy/top5``)."""
from typing import List, Optional, Sequence, Union

import torch
from mmengine.evaluator import BaseMetric

from muse_det.registry import METRICS


def topk_accuracy(scores: torch.Tensor, target: torch.Tensor,
                  topk: Sequence[int] = (1,)) -> List[float]:
    """Percent of rows of ``scores`` [N, C] whose ``target`` [N] is among the k best, per k."""
    num_classes = scores.shape[1]
    if max(topk) > num_classes:
        raise ValueError(f'top-{max(topk)} accuracy needs at least {max(topk)} classes, the '
                         f'scores have {num_classes}; lower `topk`')
    best = scores.topk(max(topk), dim=1).indices            # [N, maxk]
    hits = best == target.reshape(-1, 1)
    return [hits[:, :k].any(dim=1).float().mean().item() * 100 for k in topk]


@METRICS.register_module()
class Accuracy(BaseMetric):
    """Top-k accuracy in percent from ``pred_score`` (or top-1 from ``pred_label`` alone).

    Args:
        topk: the k's, e.g. ``(1, 5)`` -> ``accuracy/top1``, ``accuracy/top5``.
    """
    default_prefix = 'accuracy'

    def __init__(self, topk: Union[int, Sequence[int]] = (1,), collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk = (topk,) if isinstance(topk, int) else tuple(topk)
        if not self.topk or not all(isinstance(k, int) and k > 0 for k in self.topk):
            raise ValueError(f'topk must be positive ints, got {topk!r}')

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            key = 'pred_score' if 'pred_score' in sample else 'pred_label'
            self.results.append({key: sample[key].cpu(), 'gt_label': sample['gt_label'].cpu()})

    def compute_metrics(self, results: list) -> dict:
        target = torch.cat([r['gt_label'] for r in results])
        if 'pred_score' in results[0]:
            scores = torch.stack([r['pred_score'] for r in results])
            return {f'top{k}': acc
                    for k, acc in zip(self.topk, topk_accuracy(scores, target, self.topk))}
        if self.topk != (1,):
            raise ValueError(f'top-{max(self.topk)} accuracy needs pred_score; the predictions '
                             f'only hold pred_label')
        pred = torch.cat([r['pred_label'] for r in results])
        return {'top1': (pred == target).float().mean().item() * 100}
