"""tools/analysis_tools/benchmark_overhead.py --losses: every method's
distiller timed beside the same plain model, on the same weights."""
import pytest
import torch
from muse_test_utils import load_tool

overhead = load_tool('tools/analysis_tools/benchmark_overhead.py')
CONFIG = 'configs/toy/muse_fcos_r18_toy_coco_multiscale.py'


def test_each_loss_is_the_configs_loss_with_one_change_on_the_same_weights():
    plain, distillers, _ = overhead.build_models(CONFIG, 'cpu',
                                                 ['muse-mul', 'muse', 'l2'])
    assert list(distillers) == ['muse-mul', 'muse', 'l2']
    kinds = {
        name: (type(d.pair_losses[0]).__name__,
               getattr(d.pair_losses[0], 'objective', None))
        for name, d in distillers.items()
    }
    assert kinds['muse-mul'][1].variant == 'multiplicative'
    assert kinds['muse'][1].variant == 'additive'
    assert kinds['l2'][0] == 'L2DistillLoss'
    weights = plain.state_dict()
    for d in distillers.values():
        inner = d.architecture.state_dict()
        assert all(torch.equal(inner[k], v) for k, v in weights.items())


def test_losses_table_has_one_row_per_loss_against_one_plain_time(capsys):
    rows = overhead.main([
        '--models', 'toy-fcos-multiscale', '--losses', 'muse-mul', 'crd',
        '--steps', '1', '--warmup', '0', '--threads', '1'
    ])
    assert [r['loss'] for r in rows] == ['muse-mul', 'crd']
    assert rows[0]['plain_s'] == rows[1]['plain_s'] > 0
    for r in rows:
        assert r['time_ratio'] == r['muse_s'] / r['plain_s']
        # the distiller holds the plain model plus its adapters
        assert r['muse_mem'] > r['plain_mem']
    out = capsys.readouterr().out
    assert '| toy-fcos-multiscale | 160 | 4 | crd |' in out


def test_variants_are_the_configs_loss_with_options_replaced(capsys):
    """``--variant NAME=JSON``: one more row, the config's own loss with those
    options; a malformed item is a usage error naming it."""
    rows = overhead.main([
        '--models', 'toy-fcos-multiscale', '--variant',
        'e32={"embed_dim": 32, "share_target_adapter": false}', '--steps', '1',
        '--warmup', '0', '--threads', '1'
    ])
    assert [r['loss'] for r in rows] == ['MUSE', 'e32']
    assert rows[0]['plain_s'] == rows[1]['plain_s']
    plain, distillers, _ = overhead.build_models(
        CONFIG, 'cpu', variants={'e32': {
            'embed_dim': 32
        }})
    assert list(distillers) == ['MUSE', 'e32']
    assert distillers['e32'].pair_losses[0].embed_dim == 32
    assert distillers['MUSE'].pair_losses[0].embed_dim == 128
    for bad in ('e32', 'e32={"embed_dim": }', 'e32=[1]'):
        with pytest.raises(SystemExit):
            overhead.main(
                ['--models', 'toy-fcos-multiscale', '--variant', bad])
        assert f"--variant '{bad}'" in capsys.readouterr().err
