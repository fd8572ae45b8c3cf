import pytest
import torch

from metalearn_lite.memory import MANN, MANNState, addressing


@pytest.fixture(params=[True, False], ids=["writes-key", "writes-value"])
def mann(request):
    torch.manual_seed(0)
    return MANN(input_size=7, output_size=3, hidden_size=12, memory_slots=10, memory_width=4, num_reads=2,
                key_strength=True, write_key=request.param)


def test_initial_state(mann):
    state = mann.initial_state(2)
    assert isinstance(state, MANNState)
    assert state.memory.shape == (2, 10, 4) and state.read_weights.shape == (2, 2, 10)
    assert state.least_used.shape == (2, 2, 10)
    assert torch.equal(state.least_used.sum(1), addressing.least_used(state.usage, 2))


def test_trace_shapes_and_weightings_sum_to_one(mann):
    trace = mann.trace(torch.randn(2, 6, 7))
    assert trace.logits.shape == (2, 6, 3)
    assert trace.read_weights.shape == trace.write_weights.shape == (2, 6, 2, 10)
    assert torch.allclose(trace.read_weights.sum(-1), torch.ones(2, 6, 2))
    assert torch.allclose(trace.write_weights.sum(-1), torch.ones(2, 6, 2))


def test_usage_follows_the_formula_over_a_sequence(mann):
    """Replaying the recorded weightings through w_u = gamma w_u + w_r + w_w gives the final usage."""
    trace = mann.trace(torch.randn(2, 5, 7))
    usage = torch.zeros(2, 10)
    for t in range(5):
        usage = 0.95 * usage + trace.read_weights[:, t].sum(1) + trace.write_weights[:, t].sum(1)
    assert torch.allclose(trace.state.usage, usage, atol=1e-6)
    assert torch.equal(trace.state.least_used.sum(1), addressing.least_used(usage, 2))


def test_writes_go_to_the_last_read_or_the_least_used_slots(mann):
    trace = mann.trace(torch.randn(1, 4, 7))
    state = mann.initial_state(1)
    for t in range(4):
        w_write = trace.write_weights[:, t]
        allowed = (state.read_weights > 0) | (state.least_used > 0)
        assert (w_write[~allowed] == 0).all(), "a write lands only on the last-read or least-used slots"
        state = state._replace(read_weights=trace.read_weights[:, t])
        usage = state.usage * 0.95 + trace.read_weights[:, t].sum(1) + w_write.sum(1)
        state = state._replace(usage=usage, least_used=addressing.least_used_per_head(usage, 2))


def test_least_used_slot_is_cleared_before_writing():
    torch.manual_seed(0)
    model = MANN(input_size=3, output_size=2, hidden_size=5, memory_slots=4, memory_width=2, num_reads=1)
    state = model.initial_state(1)
    memory = torch.tensor([[[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]]])
    least = torch.tensor([[[0.0, 0.0, 1.0, 0.0]]])
    state = state._replace(memory=memory, least_used=least)
    with torch.no_grad():
        model.heads.bias.fill_(0.0)
        model.heads.weight.fill_(0.0)
        model.heads.bias[2] = 50.0  # alpha (after the 2 key units): write only to the last-read slot 0
    _, w_write, new = model._step(model.input_gates(torch.zeros(1, 3)), state)
    assert torch.allclose(w_write, torch.tensor([[[1.0, 0.0, 0.0, 0.0]]]))
    assert torch.equal(new.memory[0, 2], torch.zeros(2)), "the least used slot is zeroed"
    assert torch.equal(new.memory[0, [1, 3]], memory[0, [1, 3]])


def test_gradients_reach_every_parameter(mann):
    mann(torch.randn(2, 5, 7)).sum().backward()
    for name, p in mann.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_memory_off_hears_nothing_from_the_memory():
    torch.manual_seed(0)
    off = MANN(input_size=7, output_size=3, hidden_size=12, memory_slots=10, memory_width=4, num_reads=2,
               key_strength=True, write_key=False, memory_reads=False)
    inputs = torch.randn(2, 5, 7)
    state = off.initial_state(2)
    other = state._replace(memory=torch.randn_like(state.memory))
    assert torch.equal(off(inputs, state), off(inputs, other)), "the memory's contents must not reach the output"
    off(inputs).sum().backward()
    assert off.heads.weight.grad is None, "the heads only address the memory, so no gradient reaches them"
    assert off.input_gates.weight.grad.abs().sum() > 0
    on = MANN(7, 3, hidden_size=12, memory_slots=10, memory_width=4, num_reads=2, key_strength=True, write_key=False)
    on.load_state_dict(off.state_dict())
    assert not torch.equal(on(inputs, state), on(inputs, other)), "with reads on, the memory does reach the output"
    with pytest.raises(TypeError, match="memory_reads"):
        MANN(7, 3, memory_reads="no")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: MANN(7, 3)(torch.zeros(2, 5, 8)), r"inputs must have shape \(B, T, 7\)"),
        (lambda: MANN(7, 3, memory_slots=2, num_reads=4), "num_reads=4 must not exceed memory_slots=2"),
        (lambda: MANN(7, 3, gamma=1.5), "gamma"),
        (lambda: MANN(7, 0), "output_size"),
        (lambda: MANN(7, 3).initial_state(0), "batch_size"),
    ],
)
def test_bad_input_raises(call, message):
    with pytest.raises(ValueError, match=message):
        call()
