import math

import pytest
import torch

from metalearn_lite.memory import addressing as A


def one_batch(*rows):
    """(1, 1, N) weighting from a list."""
    return torch.tensor([[list(rows)]], dtype=torch.float64)


@pytest.fixture
def memory():
    # 4 slots of width 2: slot 0 and slot 2 point the same way; slot 3 is empty.
    return torch.tensor([[[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [0.0, 0.0]]], dtype=torch.float64)


def test_cosine_similarity_by_hand(memory):
    key = torch.tensor([[[1.0, 1.0]]], dtype=torch.float64)
    expected = [1 / math.sqrt(2), 1 / math.sqrt(2), 1 / math.sqrt(2), 0.0]
    assert torch.allclose(A.cosine_similarity(memory, key)[0, 0], torch.tensor(expected, dtype=torch.float64))
    assert torch.allclose(A.cosine_similarity(memory, key), torch.nn.functional.cosine_similarity(
        key.unsqueeze(2), memory.unsqueeze(1), dim=-1, eps=1e-30))


def test_content_weighting_by_hand(memory):
    key = torch.tensor([[[3.0, 0.0]]], dtype=torch.float64)
    w = A.content_weighting(memory, key, torch.tensor([[2.0]], dtype=torch.float64))
    scores = torch.tensor([2.0, 0.0, 2.0, 0.0], dtype=torch.float64)  # beta * cosine
    assert torch.allclose(w[0, 0], scores.exp() / scores.exp().sum())
    uniform = A.content_weighting(memory, key, torch.tensor([[0.0]], dtype=torch.float64))
    assert torch.allclose(uniform, torch.full_like(uniform, 0.25))


def test_large_key_strength_selects_the_most_similar_slot(memory):
    key = torch.tensor([[[0.1, 1.0]]], dtype=torch.float64)
    w = A.content_weighting(memory, key, torch.tensor([[1e4]], dtype=torch.float64))
    assert torch.allclose(w, one_batch(0.0, 1.0, 0.0, 0.0))
    assert torch.isfinite(w).all()


def test_interpolation_by_hand():
    wc, wp = one_batch(1.0, 0.0, 0.0), one_batch(0.0, 0.5, 0.5)
    g = torch.tensor([[0.25]], dtype=torch.float64)
    assert torch.allclose(A.interpolate(wc, wp, g), one_batch(0.25, 0.375, 0.375))
    assert torch.equal(A.interpolate(wc, wp, torch.ones(1, 1, dtype=torch.float64)), wc)
    assert torch.equal(A.interpolate(wc, wp, torch.zeros(1, 1, dtype=torch.float64)), wp)


@pytest.mark.parametrize(("offset", "expected"), [(-1, [0, 0, 0, 1.0]), (0, [1.0, 0, 0, 0]), (1, [0, 1.0, 0, 0])])
def test_one_hot_shift_rotates(offset, expected):
    w = one_batch(1.0, 0.0, 0.0, 0.0)
    s = torch.zeros(1, 1, 3, dtype=torch.float64)
    s[0, 0, offset + 1] = 1.0
    assert torch.equal(A.circular_shift(w, s), one_batch(*expected))


def test_shift_against_the_convolution_formula():
    g = torch.Generator().manual_seed(0)
    w = torch.softmax(torch.randn(2, 3, 7, generator=g, dtype=torch.float64), -1)
    s = torch.softmax(torch.randn(2, 3, 5, generator=g, dtype=torch.float64), -1)
    n = 7
    expected = torch.zeros_like(w)
    for i in range(n):
        for j in range(n):
            offset = (i - j) % n  # eq. 8: s indexed modulo N; offsets -2..2 stored at 0..4
            offset = offset - n if offset > n // 2 else offset
            if abs(offset) <= 2:
                expected[..., i] += w[..., j] * s[..., offset + 2]
    assert torch.allclose(A.circular_shift(w, s), expected)
    assert torch.allclose(A.circular_shift(w, s).sum(-1), torch.ones(2, 3, dtype=torch.float64))


def test_sharpen_by_hand_and_gamma_one_is_identity():
    w = one_batch(0.5, 0.25, 0.25)
    assert torch.allclose(A.sharpen(w, torch.tensor([[2.0]], dtype=torch.float64)), one_batch(4 / 6, 1 / 6, 1 / 6))
    assert torch.allclose(A.sharpen(w, torch.ones(1, 1, dtype=torch.float64)), w)
    assert torch.allclose(A.sharpen(w, torch.tensor([[200.0]], dtype=torch.float64)), one_batch(1.0, 0.0, 0.0))


def test_address_composes_the_four_steps(memory):
    g = torch.Generator().manual_seed(1)
    key = torch.randn(1, 1, 2, generator=g, dtype=torch.float64)
    beta, gate, gamma = (torch.tensor([[v]], dtype=torch.float64) for v in (3.0, 0.7, 1.5))
    shift = torch.tensor([[[0.1, 0.8, 0.1]]], dtype=torch.float64)
    w_prev = one_batch(0.0, 0.0, 1.0, 0.0)
    step = A.content_weighting(memory, key, beta)
    step = gate * step + (1 - gate) * w_prev
    step = 0.1 * step.roll(-1, -1) + 0.8 * step + 0.1 * step.roll(1, -1)
    step = step**1.5 / (step**1.5).sum()
    assert torch.allclose(A.address(memory, w_prev, key, beta, gate, shift, gamma), step)


def test_read_and_write_by_hand(memory):
    w = one_batch(0.5, 0.5, 0.0, 0.0)
    assert torch.allclose(A.read(memory, w), torch.tensor([[[0.5, 0.5]]], dtype=torch.float64))
    erase = torch.tensor([[[1.0, 0.0]]], dtype=torch.float64)
    add = torch.tensor([[[0.0, 3.0]]], dtype=torch.float64)
    new = A.write(memory, w, add, erase)
    expected = torch.tensor([[[0.5, 1.5], [0.0, 2.5], [2.0, 0.0], [0.0, 0.0]]], dtype=torch.float64)
    assert torch.allclose(new, expected)
    assert torch.allclose(A.write(memory, w, add), memory + torch.tensor([[0, 1.5], [0, 1.5], [0, 0], [0, 0]]))


def test_full_erase_then_add_replaces_a_slot(memory):
    w = one_batch(0.0, 0.0, 1.0, 0.0)
    add = torch.tensor([[[7.0, -1.0]]], dtype=torch.float64)
    new = A.write(memory, w, add, torch.ones(1, 1, 2, dtype=torch.float64))
    assert torch.equal(new[0, 2], add[0, 0]) and torch.equal(new[0, [0, 1, 3]], memory[0, [0, 1, 3]])


def test_two_write_heads_multiply_erasures_and_sum_additions(memory):
    w = torch.tensor([[[1.0, 0, 0, 0], [1.0, 0, 0, 0]]], dtype=torch.float64)
    erase = torch.full((1, 2, 2), 0.5, dtype=torch.float64)
    add = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]], dtype=torch.float64)
    new = A.write(memory, w, add, erase)
    assert torch.allclose(new[0, 0], torch.tensor([0.25 + 1.0, 1.0], dtype=torch.float64))
    swapped = A.write(memory, w.flip(1), add.flip(1), erase.flip(1))
    assert torch.allclose(new, swapped)


def test_gradcheck_through_addressing_read_and_write():
    g = torch.Generator().manual_seed(2)

    def rand(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64, requires_grad=True)

    memory, key, add = rand(1, 4, 2), rand(1, 1, 2), rand(1, 1, 2)
    raw_beta, raw_gate, raw_gamma = rand(1, 1), rand(1, 1), rand(1, 1)
    raw_shift, raw_erase = rand(1, 1, 3), rand(1, 1, 2)
    w_prev = torch.softmax(torch.randn(1, 1, 4, generator=g, dtype=torch.float64), -1)

    def f(memory, key, add, raw_beta, raw_gate, raw_shift, raw_gamma, raw_erase):
        w = A.address(memory, w_prev, key, raw_beta.exp(), raw_gate.sigmoid(), raw_shift.softmax(-1),
                      1 + raw_gamma.exp())
        new = A.write(memory, w, add, raw_erase.sigmoid())
        return A.read(new, w)

    inputs = (memory, key, add, raw_beta, raw_gate, raw_shift, raw_gamma, raw_erase)
    assert torch.autograd.gradcheck(f, inputs)
    assert torch.autograd.gradgradcheck(lambda m, a: A.read(A.write(m, w_prev, a), w_prev), (memory, add))


def test_usage_update_against_the_formula():
    g = torch.Generator().manual_seed(3)
    usage = torch.rand(2, 6, generator=g)
    w_read = torch.softmax(torch.randn(2, 4, 6, generator=g), -1)
    w_write = torch.softmax(torch.randn(2, 4, 6, generator=g), -1)
    new = A.update_usage(usage, w_read, w_write, gamma=0.9)
    for b in range(2):
        for i in range(6):
            expected = 0.9 * usage[b, i] + sum(w_read[b, h, i] + w_write[b, h, i] for h in range(4))
            assert math.isclose(new[b, i].item(), expected.item(), rel_tol=1e-6)


def test_least_used_against_the_formula():
    usage = torch.tensor([[0.5, 0.1, 0.9, 0.3, 0.2], [1.0, 2.0, 3.0, 4.0, 0.0]])
    for n in (1, 2, 3):
        w_lu = A.least_used(usage, n)
        nth_smallest = usage.sort(dim=1).values[:, n - 1 : n]
        assert torch.equal(w_lu, (usage <= nth_smallest).float())  # the paper's definition
        assert torch.equal(w_lu.sum(1), torch.full((2,), float(n)))
    ties = A.least_used(torch.zeros(1, 4), 2)
    assert torch.equal(ties, torch.tensor([[1.0, 1.0, 0.0, 0.0]]))


def test_lru_write_weighting_mixes_last_read_and_least_used():
    w_read_prev = torch.tensor([[[0.0, 1.0, 0.0, 0.0]]])
    w_lu = torch.tensor([[0.0, 0.0, 0.0, 1.0]])
    alpha = torch.tensor([[0.0]])  # sigmoid(0) = 0.5
    assert torch.allclose(A.lru_write_weighting(w_read_prev, w_lu, alpha), torch.tensor([[[0.0, 0.5, 0.0, 0.5]]]))
    assert torch.allclose(A.lru_write_weighting(w_read_prev, w_lu, torch.tensor([[-50.0]])), w_lu.unsqueeze(1))
    two = A.lru_write_weighting(w_read_prev, torch.tensor([[1.0, 0.0, 0.0, 1.0]]), torch.tensor([[-50.0]]))
    assert torch.allclose(two.sum(-1), torch.ones(1, 1)), "the weighting must sum to one"


def test_least_used_per_head_ranks_the_slots():
    usage = torch.tensor([[0.5, 0.1, 0.9, 0.3, 0.2]])
    per_head = A.least_used_per_head(usage, 3)
    assert per_head.argmax(-1).tolist() == [[1, 4, 3]], "head h gets the h-th least used slot"
    assert torch.equal(per_head.sum(1), A.least_used(usage, 3))
    w = A.lru_write_weighting(torch.zeros(1, 3, 5), per_head, torch.full((1, 3), -50.0))
    assert torch.allclose(w, per_head), "with the gate closed each head writes to its own fresh slot"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: A.read(torch.zeros(1, 4, 2), torch.zeros(1, 1, 5)), r"weights must have shape \(B=1, H, 4\)"),
        (lambda: A.read(torch.zeros(4, 2), torch.zeros(1, 1, 4)), r"memory must have shape \(B, N, M\)"),
        (lambda: A.cosine_similarity(torch.zeros(1, 4, 2), torch.zeros(1, 1, 3)), r"key must have shape"),
        (lambda: A.write(torch.zeros(2, 4, 2), torch.zeros(2, 1, 4), torch.zeros(2, 2, 2)), "add has 2 heads"),
        (lambda: A.content_weighting(torch.zeros(1, 4, 2), torch.zeros(1, 1, 2), torch.zeros(1)), "beta must have"),
        (lambda: A.sharpen(torch.ones(1, 1, 3) / 3, torch.full((1, 1), 0.5)), "gamma must be >= 1"),
        (lambda: A.circular_shift(torch.ones(1, 1, 3), torch.ones(1, 1, 2)), "odd last dimension"),
        (lambda: A.circular_shift(torch.ones(1, 1, 3), torch.ones(1, 1, 5)), "odd last dimension <= N=3"),
        (lambda: A.interpolate(torch.ones(1, 1, 3), torch.ones(1, 1, 4), torch.ones(1, 1)), "w_prev must have"),
        (lambda: A.least_used(torch.zeros(1, 4), 5), "n must be an int in 1 .. N=4"),
        (lambda: A.update_usage(torch.zeros(1, 4), torch.zeros(1, 1, 4), torch.zeros(1, 1, 4), 1.5), "gamma must"),
        (lambda: A.lru_write_weighting(torch.zeros(1, 1, 4), torch.zeros(1, 3), torch.zeros(1, 1)), "w_least_used"),
        (lambda: A.lru_write_weighting(torch.zeros(1, 2, 4), torch.zeros(1, 3, 4), torch.zeros(1, 2)), "w_least_used"),
        (lambda: A.least_used_per_head(torch.zeros(1, 4), 0), "heads must be an int"),
    ],
)
def test_bad_input_raises_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
