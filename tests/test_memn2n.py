import pytest
import torch

from metalearn_lite.data import stories as S
from metalearn_lite.memory import MemN2N, position_encoding, story_accuracy, train_memn2n


def test_position_encoding_by_hand():
    tokens = torch.tensor([[5, 6, 7, 0]])  # J = 3 words, then padding
    weights = position_encoding(tokens, embedding_dim=2)
    for j in (1, 2, 3):
        for k in (1, 2):
            expected = (1 - j / 3) - (k / 2) * (1 - 2 * j / 3)
            assert weights[0, j - 1, k - 1].item() == pytest.approx(expected)
    assert weights[0, 3].abs().sum() == 0, "padding gets weight 0"


@pytest.fixture
def model():
    torch.manual_seed(0)
    return MemN2N(vocab_size=12, embedding_dim=5, hops=3, memory_size=6)


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    stories = torch.randint(1, 12, (2, 4, 3), generator=g)
    stories[0, 3] = 0  # story 0 has 3 sentences
    return stories, torch.randint(1, 12, (2, 3), generator=g), torch.tensor([3, 4])


def test_hops_by_hand_with_adjacent_tying(model, batch):
    stories, queries, lengths = batch
    logits, attention = model.attention(stories, queries, lengths)
    pe_s, pe_q = position_encoding(stories, 5), position_encoding(queries, 5)
    emb = model.embeddings.detach().clone()
    emb[:, 0] = 0
    u = (emb[0][queries] * pe_q).sum(1)  # B = A^1
    for k in range(3):
        age = (lengths[:, None] - 1 - torch.arange(4)).clamp(min=0)
        m = (emb[k][stories] * pe_s).sum(2) + model.temporal[k][age]  # A^{k+1} = C^k
        c = (emb[k + 1][stories] * pe_s).sum(2) + model.temporal[k + 1][age]
        scores = (m * u[:, None]).sum(-1)
        scores[0, 3] = float("-inf")
        p = scores.softmax(1)
        assert torch.allclose(attention[:, k], p, atol=1e-6)
        u = u + (p[..., None] * c).sum(1)
    expected = u @ model.embeddings[3].T  # W^T = C^K
    assert torch.allclose(logits[:, 1:], expected[:, 1:], atol=1e-5)
    assert torch.isneginf(logits[:, 0]).all(), "the padding index is never an answer"


def test_attention_ignores_empty_slots_and_linear_start_drops_the_softmax(model, batch):
    stories, queries, lengths = batch
    _, attention = model.attention(stories, queries, lengths)
    assert attention.shape == (2, 3, 4) and attention[0, :, 3].eq(0).all()
    assert torch.allclose(attention.sum(-1), torch.ones(2, 3))
    _, linear = model.attention(stories, queries, lengths, linear=True)
    assert not torch.allclose(linear.sum(-1), torch.ones(2, 3)) and linear[0, :, 3].eq(0).all()


def test_encodings_can_be_switched_off(batch):
    stories, queries, lengths = batch
    torch.manual_seed(0)
    plain = MemN2N(12, 5, hops=1, memory_size=6, position_encoding=False, temporal_encoding=False)
    shuffled = stories.flip(-1)  # same bag of words in every sentence
    assert torch.allclose(plain(stories, queries, lengths), plain(shuffled, queries, lengths), atol=1e-6)
    torch.manual_seed(0)
    ordered = MemN2N(12, 5, hops=1, memory_size=6, temporal_encoding=False)
    assert not torch.allclose(ordered(stories, queries, lengths), ordered(shuffled, queries, lengths))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s, q, n: (s[:, :, :, None], q, n), r"stories \(B, S, L\)"),
        (lambda s, q, n: (s, q[:1], n), "batch sizes differ"),
        (lambda s, q, n: (torch.ones(2, 7, 3, dtype=torch.long), q, n), "more than memory_size=6"),
        (lambda s, q, n: (s + 20, q, n), "word indices outside 0 .. vocab_size - 1 = 11"),
    ],
)
def test_bad_input_raises(model, batch, change, message):
    with pytest.raises(ValueError, match=message):
        model(*change(*batch))


@pytest.mark.slow
def test_learns_single_supporting_fact_stories(one_thread):
    torch.manual_seed(0)
    train = S.generate(1, 2000, torch.Generator().manual_seed(0))
    test = S.generate(1, 500, torch.Generator().manual_seed(1))
    vocabulary = S.build_vocabulary(train + test)
    model = MemN2N(len(vocabulary) + 1, memory_size=10)
    train_memn2n(model, S.encode(train, vocabulary, 10), epochs=6, batch_size=64, lr=0.01,
                 generator=torch.Generator().manual_seed(0), progress=False)
    accuracy = story_accuracy(model, S.encode(test, vocabulary, 10))
    assert accuracy > 0.9, f"task 1 should be solved, got {accuracy:.2f}"


def test_empty_slot_takes_part_in_the_softmax(batch):
    stories, queries, lengths = batch
    torch.manual_seed(0)
    model = MemN2N(12, 5, hops=3, memory_size=6, empty_slot=True)
    _, attention = model.attention(stories, queries, lengths)
    assert attention.shape == (2, 3, 4) and attention[0, :, 3].eq(0).all()
    assert (attention.sum(-1) < 1).all(), "the rest of each hop's attention is on the empty slot"
    assert MemN2N(12, 5).empty_memory is None


def test_random_noise_inserts_empty_slots_in_order():
    from metalearn_lite.memory.training import _insert_empty_slots

    stories = torch.arange(1, 17).view(2, 4, 2)
    stories[0, 3] = 0
    lengths = torch.tensor([3, 4])
    noisy, kept = _insert_empty_slots(stories, lengths, 1.0, 5, torch.Generator().manual_seed(0))
    assert kept.tolist() == [5, 5], "no more empty slots than memory_size leaves room for"
    assert noisy[:, :, 0].tolist() == [[0, 1, 0, 3, 5, 0], [0, 9, 11, 13, 15, 0]]
    same, kept = _insert_empty_slots(stories, lengths, 0.0, 50, None)
    assert torch.equal(same, stories) and kept.tolist() == [3, 4]


def test_train_memn2n_checks_its_new_arguments():
    vocabulary = S.build_vocabulary()
    data = S.encode(S.generate(6, 8, torch.Generator().manual_seed(0)), vocabulary)
    model = MemN2N(len(vocabulary) + 1, empty_slot=True)
    with pytest.raises(ValueError, match="algorithm must be one of"):
        train_memn2n(model, data, 1, algorithm="adagrad", progress=False)
    with pytest.raises(ValueError, match="random_noise"):
        train_memn2n(model, data, 1, random_noise=1.5, progress=False)
    before = model.empty_memory.detach().clone()
    history = train_memn2n(model, data, 1, batch_size=4, lr=0.32, algorithm="sgd", random_noise=0.5,
                           generator=torch.Generator().manual_seed(0), progress=False)
    assert len(history["loss"]) == 2 and not torch.equal(model.empty_memory, before), "SGD trains the empty slot"
