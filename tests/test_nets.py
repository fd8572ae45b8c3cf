"""The networks of the MAML paper, and the batch-statistics norm that stays exact under vmap."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.autograd import gradcheck, gradgradcheck
from torch.func import grad, vmap

from metalearn_lite.nets import MLP, BatchStatNorm2d, ConvNet4, batch_stat_norm

DTYPE = torch.float64


def test_mlp_is_the_papers_1_40_40_1_regressor():
    net = MLP()
    assert sum(p.numel() for p in net.parameters()) == (1 * 40 + 40) + (40 * 40 + 40) + (40 + 1)
    assert net(torch.zeros(7, 1)).shape == (7, 1)
    assert [type(m).__name__ for m in net.layers] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]


@pytest.mark.parametrize(("image_size", "features"), [(28, 64), (84, 64 * 5 * 5)])
def test_convnet4_shapes(image_size, features):
    net = ConvNet4(n_way=5, image_size=image_size)
    assert net.head.in_features == features
    assert net(torch.rand(3, 1, image_size, image_size)).shape == (3, 5)
    assert next(net.buffers(), None) is None, "no running statistics"


@pytest.mark.parametrize("impl", ["native", "primitive"])
def test_norm_normalises_each_channel_with_the_batch_statistics(impl):
    x = torch.randn(6, 3, 5, 5, dtype=DTYPE) * 4 + 2
    y = batch_stat_norm(x, torch.ones(3, dtype=DTYPE), torch.zeros(3, dtype=DTYPE), impl=impl)
    assert torch.allclose(y.mean(dim=(0, 2, 3)), torch.zeros(3, dtype=DTYPE), atol=1e-12)
    assert torch.allclose(y.var(dim=(0, 2, 3), unbiased=False), torch.ones(3, dtype=DTYPE), atol=1e-4)


def test_norm_module_ignores_train_and_eval_mode():
    norm = BatchStatNorm2d(3).double()
    x = torch.randn(4, 3, 2, 2, dtype=DTYPE)
    assert torch.equal(norm.train()(x), norm.eval()(x))


def norm_inputs(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return tuple(
        torch.randn(*shape, generator=g, dtype=DTYPE).requires_grad_() for shape in [(4, 3, 3, 3), (3,), (3,)]
    )


@pytest.mark.parametrize("impl", ["native", "primitive"])
def test_norm_first_and_second_derivatives(impl):
    inputs = norm_inputs()
    assert gradcheck(lambda x, w, b: batch_stat_norm(x, w, b, impl=impl), inputs)
    assert gradgradcheck(lambda x, w, b: batch_stat_norm(x, w, b, impl=impl), inputs)


def per_sample_second_order(impl: str, batched: bool) -> list[torch.Tensor]:
    """∂/∂w of Σ_i ||∂ loss_i / ∂w||^2: a second-order quantity, per sample with vmap or a loop."""
    x = torch.randn(5, 4, 3, 3, 3, generator=torch.Generator().manual_seed(1), dtype=DTYPE)
    _, w, b = norm_inputs()

    def loss(w, b, xi):
        return (batch_stat_norm(xi, w, b, impl=impl) ** 3).mean()

    if batched:
        grads = vmap(grad(loss), in_dims=(None, None, 0))(w, b, x)
    else:
        grads = torch.stack([torch.autograd.grad(loss(w, b, xi), w, create_graph=True)[0] for xi in x])
    return list(torch.autograd.grad(grads.pow(2).sum(), (w, b)))


def test_primitive_norm_under_vmap_has_exact_second_order_gradients():
    reference = per_sample_second_order("native", batched=False)
    for got in (per_sample_second_order("primitive", batched=True), per_sample_second_order("auto", batched=True)):
        assert all(torch.allclose(a, r, atol=1e-12) for a, r in zip(got, reference, strict=True))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="impl"):
        batch_stat_norm(torch.zeros(2, 1, 2, 2), torch.ones(1), torch.zeros(1), impl="fast")
    with pytest.raises(ValueError, match="impl"):
        BatchStatNorm2d(3, impl="cudnn")
    with pytest.raises(ValueError, match="x must be"):
        batch_stat_norm(torch.zeros(2, 3), torch.ones(3), torch.zeros(3))
    with pytest.raises(ValueError, match="8x8 image is too small"):
        ConvNet4(image_size=8)
    with pytest.raises(ValueError, match="hidden_channels"):
        ConvNet4(hidden_channels=0)
    with pytest.raises(ValueError, match=r"hidden\[1\]"):
        MLP(hidden=(40, 0))
    with pytest.raises(ValueError, match="norm"):
        ConvNet4(norm="layer")


def test_native_and_primitive_agree_in_the_conv_net():
    torch.manual_seed(0)
    native = ConvNet4(n_way=3, hidden_channels=4, image_size=16, norm_impl="native").double()
    primitive = ConvNet4(n_way=3, hidden_channels=4, image_size=16, norm_impl="primitive").double()
    primitive.load_state_dict(native.state_dict())
    x = torch.rand(6, 1, 16, 16, dtype=DTYPE)
    assert torch.allclose(native(x), primitive(x), atol=1e-12)
    loss_n, loss_p = F.cross_entropy(native(x), torch.arange(6) % 3), F.cross_entropy(primitive(x), torch.arange(6) % 3)
    for a, b in zip(torch.autograd.grad(loss_n, list(native.parameters())),
                    torch.autograd.grad(loss_p, list(primitive.parameters())), strict=True):
        assert torch.allclose(a, b, atol=1e-12)


def textbook_convnet(net: ConvNet4) -> torch.nn.Module:
    """The paper's block order with torch.nn modules (conv, BatchNorm2d, ReLU, MaxPool2d), same weights."""
    layers = []
    for block in net.features.blocks:
        channels = block.conv.out_channels
        layers += [torch.nn.Conv2d(block.conv.in_channels, channels, 3, padding=1),
                   torch.nn.BatchNorm2d(channels, track_running_stats=False), torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
    head = torch.nn.Linear(net.head.in_features, net.head.out_features)
    reference = torch.nn.Sequential(*layers, torch.nn.Flatten(), head)
    with torch.no_grad():
        for mine, theirs in zip(net.parameters(), reference.parameters(), strict=True):
            theirs.copy_(mine)
    return reference.to(next(net.parameters()).dtype)


def test_convnet4_computes_the_papers_block_with_the_same_second_order_gradients():
    """Pooling before ReLU and channels-last memory change nothing but the speed."""
    from metalearn_lite import MAML, Task

    torch.manual_seed(0)
    net = ConvNet4(n_way=3, hidden_channels=4, image_size=16).double()
    reference = textbook_convnet(net)
    g = torch.Generator().manual_seed(0)
    tasks = [Task(torch.rand(3, 1, 16, 16, generator=g, dtype=DTYPE), torch.arange(3),
                  torch.rand(6, 1, 16, 16, generator=g, dtype=DTYPE), torch.arange(3).repeat(2)) for _ in range(2)]
    x = tasks[0].x_query
    assert torch.allclose(net(x), reference(x), atol=1e-12)
    assert net.features.blocks(x).is_contiguous(memory_format=torch.channels_last)
    grads = [torch.autograd.grad(MAML(m, F.cross_entropy, 0.4, path="loop").meta_loss(tasks), list(m.parameters()))
             for m in (net, reference)]
    assert all(torch.allclose(a, b, atol=1e-12) for a, b in zip(*grads, strict=True))
