"""End-to-end memory networks (Sukhbaatar, Szlam, Weston & Fergus, 2015).

Each sentence of a story becomes one memory slot, embedded twice: as a key ``m_i`` (matrix A)
to be attended to and as a value ``c_i`` (matrix C) to be read. The question, embedded with B, is
the first controller state ``u``. One *hop* attends and adds what it read:

    p = softmax(u . m_i),    o = sum_i p_i c_i,    u <- u + o,

and after ``K`` hops the answer is ``softmax(W (u + o))`` over the vocabulary. Unlike the NTM
there is no write: the memory is the input, and the attention is soft, so plain backpropagation
trains everything from question/answer pairs alone.

The choices of the paper's section 4.1 and 4.2 are arguments: adjacent weight tying
(``A^{k+1} = C^k``, ``B = A^1``, ``W^T = C^K``: K + 1 embedding matrices in all), position
encoding of the words of a sentence (:func:`position_encoding`), temporal encoding of the
sentence order (a learned vector per age ``T_A(i)``, ``T_C(i)``) and *linear start* (the
``linear`` flag of :meth:`MemN2N.forward` drops the softmax of the hops for the first epochs).

``empty_slot=True`` adds one memory slot that every story has and no sentence fills: its key and
value are learned vectors. The softmax of a hop sums to one, so without it a hop must read some
sentence even when none matches, and ``o`` cannot say "no match". Yes/no questions (task 6, "Is
John in the garden?") need exactly that: with the empty slot the hops put their attention on the
sentence that names both the person and the place, or on the empty slot, and the answer reads
which. (Implementations that pad every story to a fixed memory of nil sentences get such slots
for free; the paper's random noise, :func:`~metalearn_lite.memory.train_memn2n`'s
``random_noise``, inserts them during training only.)
§3.2 (``notebooks/04_memory_augmented.ipynb``) trains it on the generated stories of :mod:`metalearn_lite.data.stories`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .. import checks

__all__ = ["MemN2N", "position_encoding"]


def position_encoding(tokens: Tensor, embedding_dim: int) -> Tensor:
    """Weights ``l_kj = (1 - j/J) - (k/d)(1 - 2j/J)`` for word ``j`` of a ``J``-word sentence.

    ``j = 1 .. J`` and ``k = 1 .. d`` are 1-based; ``J`` counts the sentence's real words
    (non-zero tokens). A sentence embedding ``sum_j l_j * A x_j`` then depends on word order, which a
    bag of words cannot ("John gave Mary" vs "Mary gave John").

    Shapes:
        tokens ``(..., L)`` integers, 0 = padding -> ``(..., L, embedding_dim)``; padded
        positions get weight 0.
    """
    words = tokens.ne(0)
    count = words.sum(dim=-1, keepdim=True).clamp(min=1).to(torch.float32)  # J, (..., 1)
    j = torch.arange(1, tokens.shape[-1] + 1, device=tokens.device, dtype=torch.float32) / count  # j / J
    k = torch.arange(1, embedding_dim + 1, device=tokens.device, dtype=torch.float32) / embedding_dim
    weights = (1 - j).unsqueeze(-1) - k * (1 - 2 * j).unsqueeze(-1)  # (..., L, d)
    return weights * words.unsqueeze(-1)


class MemN2N(nn.Module):
    """An end-to-end memory network with adjacent weight tying.

    Args:
        vocab_size: number of word indices, padding index 0 included (``len(vocabulary) + 1``).
        embedding_dim: d (paper: 20 on bAbI).
        hops: K (paper: 3).
        memory_size: the most recent sentences kept (paper: 50), also the number of temporal
            encodings.
        position_encoding: weight words by position (else a bag of words).
        temporal_encoding: add a learned vector for each sentence age.
        init_std: standard deviation of the Gaussian initialisation (paper: 0.1).
        empty_slot: add a slot with no sentence (learned key and value, one per embedding
            matrix) that every hop may attend to.

    Shapes:
        ``forward``: stories ``(B, S, L)`` with ``S <= memory_size``, queries ``(B, L)``,
        lengths ``(B,)`` sentences per story -> logits ``(B, vocab_size)``.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int = 20,
        hops: int = 3,
        memory_size: int = 50,
        position_encoding: bool = True,
        temporal_encoding: bool = True,
        init_std: float = 0.1,
        empty_slot: bool = False,
    ) -> None:
        super().__init__()
        checks.boolean("position_encoding", position_encoding)
        checks.boolean("temporal_encoding", temporal_encoding)
        checks.boolean("empty_slot", empty_slot)
        checks.positive_ints(vocab_size=vocab_size, embedding_dim=embedding_dim, hops=hops, memory_size=memory_size)
        self.vocab_size, self.embedding_dim, self.hops, self.memory_size = vocab_size, embedding_dim, hops, memory_size
        self.use_position, self.use_temporal, self.use_empty = position_encoding, temporal_encoding, empty_slot
        # embeddings[0] = B = A^1; embeddings[k] = C^k = A^{k+1}; W = embeddings[hops]^T.
        self.embeddings = nn.Parameter(torch.randn(hops + 1, vocab_size, embedding_dim) * init_std)
        self.temporal = nn.Parameter(torch.randn(hops + 1, memory_size, embedding_dim) * init_std)
        if empty_slot:  # the empty slot's key under A^{k+1} is empty_memory[k], its value under C^k empty_memory[k + 1]
            self.empty_memory = nn.Parameter(torch.randn(hops + 1, embedding_dim) * init_std)
        else:
            self.register_parameter("empty_memory", None)

    def _embed(self, tokens: Tensor) -> Tensor:
        """Sentence embeddings with every matrix at once: ``(..., L)`` -> ``(hops + 1, ..., d)``."""
        words = self.embeddings[:, tokens] * tokens.ne(0).unsqueeze(-1)  # padding embeds to nothing
        if self.use_position:
            words = words * position_encoding(tokens, self.embedding_dim)
        return words.sum(dim=-2)

    def _check(self, stories: Tensor, queries: Tensor, lengths: Tensor) -> None:
        if stories.dim() != 3 or queries.dim() != 2 or lengths.dim() != 1:
            raise ValueError(f"stories (B, S, L), queries (B, L) and lengths (B,) expected, got "
                             f"{tuple(stories.shape)}, {tuple(queries.shape)}, {tuple(lengths.shape)}")
        if not (stories.shape[0] == queries.shape[0] == lengths.shape[0]):
            raise ValueError(f"batch sizes differ: {stories.shape[0]}, {queries.shape[0]}, {lengths.shape[0]}")
        if stories.shape[1] > self.memory_size:
            raise ValueError(f"stories has {stories.shape[1]} sentences, more than memory_size={self.memory_size}")
        for name, t in (("stories", stories), ("queries", queries)):
            if t.numel() and (int(t.min()) < 0 or int(t.max()) >= self.vocab_size):
                raise ValueError(f"{name} holds word indices outside 0 .. vocab_size - 1 = {self.vocab_size - 1}")

    def attention(
        self, stories: Tensor, queries: Tensor, lengths: Tensor, linear: bool = False
    ) -> tuple[Tensor, Tensor]:
        """Run the hops; return the answer logits and every hop's attention.

        Shapes:
            -> logits ``(B, vocab_size)``, attention ``(B, hops, S)`` (zero on empty slots; with
            ``empty_slot`` a row sums to one minus the share of the extra empty slot).
        """
        self._check(stories, queries, lengths)
        checks.boolean("linear", linear)
        slots = torch.arange(stories.shape[1], device=stories.device)
        filled = slots < lengths.unsqueeze(1)  # (B, S)
        age = (lengths.unsqueeze(1) - 1 - slots).clamp(min=0)  # 0 = the most recent sentence
        u = self._embed(queries)[0]  # B = A^1, (B, d)
        memories = self._embed(stories)  # (hops + 1, B, S, d): A^1, C^1 = A^2, ..., C^K
        if self.use_temporal:
            memories = memories + self.temporal[:, age]
        if self.use_empty:  # one more slot, the same in every story: (hops + 1, B, S + 1, d)
            empty = self.empty_memory[:, None, None].expand(-1, stories.shape[0], 1, -1)
            memories = torch.cat([memories, empty], dim=2)
            filled = torch.cat([filled, filled.new_ones(stories.shape[0], 1)], dim=1)
        attention = []
        for k in range(self.hops):
            m, c = memories[k], memories[k + 1]
            scores = torch.einsum("bsd,bd->bs", m, u)
            if linear:
                p = scores * filled
            else:
                p = torch.softmax(scores.masked_fill(~filled, float("-inf")), dim=1).nan_to_num(0.0)
            u = u + torch.einsum("bs,bsd->bd", p, c)
            attention.append(p[:, : stories.shape[1]])
        logits = u @ self.embeddings[self.hops].T  # W = (C^K)^T
        logits = logits.masked_fill(torch.arange(self.vocab_size, device=u.device) == 0, float("-inf"))  # never pad
        return logits, torch.stack(attention, dim=1)

    def forward(self, stories: Tensor, queries: Tensor, lengths: Tensor, linear: bool = False) -> Tensor:
        """Answer logits ``(B, vocab_size)``; ``linear=True`` is the paper's linear start."""
        return self.attention(stories, queries, lengths, linear)[0]
