import pytest
import torch

import metalearn_lite as mll


def test_seed_everything_is_deterministic():
    g1 = mll.seed_everything(3)
    a = torch.randn(4), torch.rand(2, generator=g1)
    g2 = mll.seed_everything(3)
    b = torch.randn(4), torch.rand(2, generator=g2)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    mll.seed_everything(4)
    assert not torch.equal(torch.randn(4), a[0])


@pytest.mark.parametrize(("bad", "error"), [(-1, ValueError), (1.5, TypeError), ("0", TypeError), (True, TypeError)])
def test_seed_everything_rejects_bad_seed(bad, error):
    with pytest.raises(error, match="seed"):
        mll.seed_everything(bad)


def test_default_device(monkeypatch):
    monkeypatch.delenv("METALEARN_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert mll.default_device().type == expected
    monkeypatch.setenv("METALEARN_DEVICE", "cpu")
    assert mll.default_device() == torch.device("cpu")
    if not torch.cuda.is_available():
        monkeypatch.setenv("METALEARN_DEVICE", "cuda")
        with pytest.raises(ValueError, match="no CUDA"):
            mll.default_device()


def test_default_device_takes_the_gpu_when_one_is_visible(monkeypatch):
    """What a Colab GPU runtime gives (simulated: this machine has no GPU)."""
    monkeypatch.delenv("METALEARN_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert mll.default_device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert mll.default_device() == torch.device("cpu")
