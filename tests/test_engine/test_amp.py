"""--amp on CPU: bf16 autocast trains a real MUSE detector; the estimators stay
fp32 and finite."""
import torch
from muse_test_utils import ROOT, toy_run_cfg


def test_bf16_autocast_trains_muse_detector(toy_coco, tmp_path):
    from mmengine.runner import Runner

    from muse_det.utils.launch import enable_amp
    cfg = toy_run_cfg(f'{ROOT}/configs/muse/muse_retinanet_r50_fpn_1x_coco.py',
                      toy_coco, str(tmp_path))
    enable_amp(cfg)
    assert cfg.optim_wrapper.type == ('AmpOptimWrapper'
                                      if torch.cuda.is_available() else
                                      'MUSEAutocastOptimWrapper')
    runner = Runner.from_cfg(cfg)
    seen = {}

    def spy(module, inputs, output):
        seen['dtype'] = inputs[0].dtype
        seen['loss'] = output['loss']

    handle = runner.model.pair_losses[0].register_forward_hook(spy)
    runner.train()
    handle.remove()
    assert seen['dtype'] == torch.bfloat16, (
        'features reach the loss in bf16 under autocast')
    assert seen['loss'].dtype == torch.float32 and torch.isfinite(seen['loss'])


def test_fp16_features_with_huge_values_stay_finite():
    from muse_det.information import MUSELoss
    torch.manual_seed(0)
    loss = MUSELoss(8, 8, num_samples=16)
    # near the fp16 maximum
    s = (torch.randn(2, 8, 4, 4).clamp(-2, 2) * 3e4).half()
    t = (torch.randn(2, 8, 4, 4).clamp(-2, 2) * 3e4).half()
    out = loss(s, t)
    assert out['loss'].dtype == torch.float32 and torch.isfinite(out['loss'])
