"""CKA and per-layer outputs: the measurement behind "rapid learning or feature reuse?"."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from metalearn_lite.gradient import layer_outputs, linear_cka

DTYPE = torch.float64


def test_cka_is_one_under_rotation_and_scaling_and_matches_the_hsic_form(generator):
    x = torch.randn(50, 6, generator=generator, dtype=DTYPE)
    q, _ = torch.linalg.qr(torch.randn(6, 6, generator=generator, dtype=DTYPE))
    assert linear_cka(x, 3.0 * x @ q + 1.0).item() == pytest.approx(1.0, abs=1e-12)
    y = torch.randn(50, 4, generator=generator, dtype=DTYPE)
    # the kernel form: HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)) with linear kernels and H = I - 11ᵀ/n
    h = torch.eye(50, dtype=DTYPE) - 1 / 50
    k, l_ = h @ x @ x.T @ h, h @ y @ y.T @ h
    expected = (k * l_).sum() / ((k * k).sum() * (l_ * l_).sum()).sqrt()
    assert linear_cka(x, y).item() == pytest.approx(expected.item(), rel=1e-12)
    assert 0 <= linear_cka(x, y).item() < 0.5  # independent noise: far from 1
    # more features than examples: the Gram-matrix branch gives the same number as the feature branch
    wide_x = torch.randn(6, 40, generator=generator, dtype=DTYPE)
    wide_y = torch.randn(6, 30, generator=generator, dtype=DTYPE)
    wx, wy = wide_x - wide_x.mean(0), wide_y - wide_y.mean(0)
    feature_form = (wy.T @ wx).pow(2).sum() / ((wx.T @ wx).pow(2).sum() * (wy.T @ wy).pow(2).sum()).sqrt()
    assert linear_cka(wide_x, wide_y).item() == pytest.approx(feature_form.item(), rel=1e-12)


def test_cka_refuses_mismatched_or_constant_representations():
    with pytest.raises(ValueError, match="same n >= 2 examples"):
        linear_cka(torch.randn(5, 3), torch.randn(6, 3))
    with pytest.raises(ValueError, match="constant"):
        linear_cka(torch.ones(5, 3), torch.randn(5, 3))
    with pytest.raises(TypeError, match="x"):
        linear_cka([[1.0]], torch.randn(1, 1))


def test_layer_outputs_use_the_given_weights_and_leave_no_hooks():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x = torch.randn(7, 3)
    own = layer_outputs(net, None, x, ["0", "2"])
    torch.testing.assert_close(own["2"], net(x))
    doubled = {k: 2 * v for k, v in net.named_parameters()}
    fast = layer_outputs(net, doubled, x, ["0"])
    torch.testing.assert_close(fast["0"], 2 * own["0"])  # a linear layer with doubled weight and bias
    assert all(not m._forward_hooks for m in net.modules())
    with pytest.raises(ValueError, match="layers must name submodules"):
        layer_outputs(net, None, x, ["head"])
