import pytest
import torch

from metalearn_lite.data.copy_task import copy_batch
from metalearn_lite.memory import NTM, NTMState, SequenceLSTM, addressing, copy_errors, train_copy


@pytest.fixture
def ntm():
    torch.manual_seed(0)
    return NTM(input_size=5, output_size=4, hidden_size=16, memory_slots=8, memory_width=6)


def test_initial_state_shapes_and_focus(ntm):
    state = ntm.initial_state(3)
    assert isinstance(state, NTMState)
    assert state.memory.shape == (3, 8, 6) and state.hidden.shape == (3, 16)
    assert state.read_weights.shape == (3, 1, 8) and torch.equal(state.read_weights[:, 0, 0], torch.ones(3))
    assert torch.equal(state.read_vector, torch.zeros(3, 6))


def test_step_is_a_pure_function_of_its_state(ntm):
    x = torch.randn(2, 5)
    state = ntm.initial_state(2)
    out1, next1 = ntm.step(x, state)
    out2, next2 = ntm.step(x, state)
    assert torch.equal(out1, out2) and torch.equal(next1.memory, next2.memory)
    assert torch.equal(state.memory, ntm.initial_state(2).memory), "the input state must not be modified"
    assert torch.allclose(next1.write_weights.sum(-1), torch.ones(2, 1))
    assert torch.allclose(next1.read_weights.sum(-1), torch.ones(2, 1))


def test_step_matches_the_addressing_functions(ntm):
    """The read vector is the read weighting applied to the memory after the write."""
    x = torch.randn(2, 5)
    _, state = ntm.step(x, ntm.initial_state(2))
    assert torch.allclose(state.read_vector, addressing.read(state.memory, state.read_weights)[:, 0])


def test_trace_shapes_and_forward_agree(ntm):
    inputs = torch.randn(2, 7, 5)
    trace = ntm.trace(inputs)
    assert trace.logits.shape == (2, 7, 4)
    assert trace.read_weights.shape == trace.write_weights.shape == (2, 7, 8)
    assert torch.equal(trace.logits, ntm(inputs))
    continued = ntm.trace(inputs[:, 4:], ntm.trace(inputs[:, :4]).state)
    assert torch.allclose(continued.logits, trace.logits[:, 4:], atol=1e-6), "the state carries everything"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m.step(torch.zeros(2, 4), m.initial_state(2)), r"x must have shape \(B, 5\)"),
        (lambda m: m.trace(torch.zeros(2, 5)), "inputs must have shape"),
        (lambda m: m.initial_state(0), "batch_size"),
        (lambda m: NTM(5, 4, memory_slots=2, shift_range=1), "shift_range"),
        (lambda m: NTM(0, 4), "input_size"),
        (lambda m: SequenceLSTM(5, 4)(torch.zeros(2, 3, 6)), "inputs must have shape"),
    ],
)
def test_bad_input_raises(ntm, call, message):
    with pytest.raises(ValueError, match=message):
        call(ntm)


def test_gradients_reach_every_parameter(ntm):
    inputs, targets = copy_batch(2, 3, n_bits=4, generator=torch.Generator().manual_seed(0))
    ntm(inputs)[:, -3:].sum().backward()
    for name, p in ntm.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


@pytest.mark.slow
def test_a_tiny_ntm_learns_to_copy_within_seconds(one_thread):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model = NTM(input_size=5, output_size=4, hidden_size=32, memory_slots=6, memory_width=6)
    before = copy_errors(model, [2], n_bits=4, generator=torch.Generator().manual_seed(1))[2]
    history = train_copy(model, 500, min_length=1, max_length=2, n_bits=4, batch_size=16, lr=1e-2,
                         generator=g, progress=False)
    after = copy_errors(model, [2], n_bits=4, generator=torch.Generator().manual_seed(1))[2]
    assert before > 2.5, "an untrained NTM gets about half of the 8 bits wrong"
    assert after < 0.5, f"after training it should copy 2 vectors of 4 bits almost perfectly, got {after}"
    assert sum(history["loss"][-20:]) < 0.2 * sum(history["loss"][:20])
