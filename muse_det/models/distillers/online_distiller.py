"""Online distillation: peers trained together teach each other."""
from typing import Optional, Sequence

from muse_det.registry import MODELS
from .base_distiller import (ARCHITECTURE, BaseDistiller, FeaturePair, build_network,
                             normalise_features)


def peer_key(i: int) -> str:
    """Peer 0 is the distiller's ``architecture`` (exported, evaluated by default)."""
    return ARCHITECTURE if i == 0 else f'peer{i}'


@MODELS.register_module()
class MUSEOnlineDistiller(BaseDistiller):
    """K >= 2 peers (same or different architectures) trained together with MUSE between the
    same features of every two peers, in both directions (each direction detaches its target,
    so every peer is taught by the others and teaches them).

    Each peer computes its own task losses (peer 0's keep their names, peer k's are prefixed
    ``peer{k}_``). ``predict``/``test`` use peer ``eval_peer`` (default 0); ``tools/export.py``
    exports peer 0.

    Args:
        peers: a list of >= 2 model configs.
        features: the recorded features, the same names in every peer; ``None``: every neck
            (or backbone) output of peer 0.
        loss: the pair loss config (MUSE or a baseline).
        eval_peer: which peer ``predict`` uses.
    """

    def __init__(self,
                 peers: Sequence[dict],
                 features: Optional[Sequence[str]] = None,
                 loss: dict = dict(type='MUSELoss'),
                 eval_peer: int = 0,
                 **kwargs):
        if not isinstance(peers, (list, tuple)) or len(peers) < 2:
            raise ValueError(f'online distillation needs a list of at least 2 peer configs, '
                             f'got {type(peers).__name__} of {len(peers) if hasattr(peers, "__len__") else "?"}')
        super().__init__(architecture=peers[0], loss=loss, **kwargs)
        for i, cfg in enumerate(peers[1:], start=1):
            setattr(self, peer_key(i), build_network(cfg))
        self.num_peers = len(peers)
        if not 0 <= eval_peer < self.num_peers:
            raise ValueError(f'eval_peer must be in 0..{self.num_peers - 1}, got {eval_peer}')
        self.eval_peer = eval_peer
        features = self.default_features(ARCHITECTURE) if features is None \
            else normalise_features(features)
        for i in range(self.num_peers):
            self.add_network(peer_key(i), features)
        self.build_pairs([FeaturePair((peer_key(i), f), (peer_key(j), f))
                          for i in range(self.num_peers) for j in range(self.num_peers)
                          if i != j for f in features])

    def predict(self, inputs, data_samples=None):
        return self.network(peer_key(self.eval_peer))(inputs, data_samples, mode='predict')

    def extra_features(self, inputs, data_samples, losses: dict) -> dict:
        features = {}
        for i in range(1, self.num_peers):
            key = peer_key(i)
            with self.recorders[key] as rec:
                peer_losses = self.network(key).loss(inputs, data_samples)
                features.update({(key, n): rec.get(n) for n in rec.names})
            losses.update({f'{key}_{k}': v for k, v in peer_losses.items()})
        return features
