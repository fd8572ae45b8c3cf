"""Matching networks (Vinyals, Blundell, Lillicrap, Kavukcuoglu & Wierstra, 2016).

A query's label distribution is an attention-weighted sum of the support labels,
``P(y | x, S) = sum_i a(x, x_i) y_i`` with ``a`` the softmax over the cosine similarities of the embeddings (their
eq. 1 and 2). Optionally the embeddings see the whole support set ("full context embeddings", FCE,
their §2.1.2): a bidirectional LSTM re-embeds the support set and an attention LSTM re-embeds each
query while reading the support set. §3.1 (``notebooks/03_metric_learning.ipynb``) explains the
rule, §4.2 (``notebooks/08_few_shot.ipynb``) benchmarks it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import checks
from .base import EpisodicLearner, check_support, class_mask

__all__ = ["MatchingNetwork", "matching_log_probs"]


def matching_log_probs(z_support: Tensor, y_support: Tensor, z_query: Tensor, scale: float | Tensor = 1.0) -> Tensor:
    """Log of ``P(y = c | x, S) = sum_{i: y_i = c} softmax_i(scale * cos(f(x), g(x_i)))``.

    Computed as ``logsumexp`` over each class's scaled cosines minus ``logsumexp`` over all of them,
    which is exact and stable. The result can be fed to ``cross_entropy`` as logits. ``scale = 1``
    is the paper's rule; there the cosines, in ``[-1, 1]``, cap the right class's probability (§3.1's
    exercise ``ex-03-matching-ceiling``), and a larger scale (an inverse temperature) lifts the cap.

    Shapes:
        z_support ``(n_support, dim)``, y_support ``(n_support,)``, z_query ``(n_query, dim)``,
        scale a positive number or 0-d tensor -> ``(n_query, n_way)``.
    """
    n_way = check_support(z_support, y_support, z_query)
    if isinstance(scale, Tensor):
        if scale.dim() != 0:
            raise ValueError(f"scale must be a number or a 0-d tensor, got shape {tuple(scale.shape)}")
    else:
        checks.positive_number("scale", scale)
    cosine = scale * F.normalize(z_query, dim=1) @ F.normalize(z_support, dim=1).T  # (n_query, n_support)
    mask = class_mask(y_support, n_way)  # (n_way, n_support)
    per_class = cosine[:, None, :].masked_fill(~mask[None], float("-inf"))  # (n_query, n_way, n_support)
    return per_class.logsumexp(dim=-1) - cosine.logsumexp(dim=-1, keepdim=True)


class FullContextEmbedding(nn.Module):
    """The FCE of Vinyals et al. (§2.1.2 and appendix A.2): context-aware embeddings.

    Support: ``g(x_i) = g'(x_i) + h_fwd_i + h_bwd_i`` with a bidirectional LSTM over the support
    set (in its given order). Query: ``processing_steps`` steps of an LSTM whose state is refined by
    attention reads ``r`` over ``g(S)``; ``f(x) = h_K`` with ``h_k = LSTM(...) + f'(x)``. We feed
    ``[f'(x), r_{k-1}]`` as the LSTM *input* rather than concatenating ``r`` to its hidden state,
    which keeps the hidden size equal to ``dim`` (a common simplification).
    """

    def __init__(self, dim: int, processing_steps: int = 5) -> None:
        super().__init__()
        checks.positive_ints(dim=dim, processing_steps=processing_steps)
        self.support_lstm = nn.LSTM(dim, dim, bidirectional=True, batch_first=True)
        self.query_cell = nn.LSTMCell(2 * dim, dim)
        self.processing_steps = processing_steps

    def forward(self, z_support: Tensor, z_query: Tensor) -> tuple[Tensor, Tensor]:
        out, _ = self.support_lstm(z_support[None])  # (1, n_support, 2 * dim)
        forward_half, backward_half = out[0].chunk(2, dim=-1)
        g = z_support + forward_half + backward_half  # (n_support, dim)
        h, c = torch.zeros_like(z_query), torch.zeros_like(z_query)
        read = torch.zeros_like(z_query)
        for _ in range(self.processing_steps):
            h, c = self.query_cell(torch.cat([z_query, read], dim=1), (h, c))
            h = h + z_query
            read = torch.softmax(h @ g.T, dim=1) @ g  # (n_query, dim)
        return g, h


class MatchingNetwork(EpisodicLearner):
    """An encoder plus cosine attention over the support set (:func:`matching_log_probs`).

    Args:
        encoder: ``(n, *input_shape) -> (n, dim)``.
        fce: add full context embeddings (:class:`FullContextEmbedding`); needs ``embedding_dim``.
        embedding_dim: the encoder's output size (only used with ``fce=True``).
        processing_steps: attention-LSTM steps of the query FCE.
        scale: multiplies the cosines before the attention's softmax; ``1`` is the paper's rule.
        learn_scale: learn the scale with the encoder, starting from ``scale`` (kept positive as
            ``exp`` of the parameter ``log_scale``), as Baseline++ (Chen et al., 2019) learns its
            cosine classifier's.

    Shapes:
        ``forward(x_support, y_support, x_query)`` -> log-probabilities ``(n_query, n_way)``.
    """

    def __init__(
        self, encoder: nn.Module, fce: bool = False, embedding_dim: int | None = None, processing_steps: int = 5,
        scale: float = 1.0, learn_scale: bool = False,
    ) -> None:
        super().__init__(encoder)
        if checks.boolean("fce", fce) and embedding_dim is None:
            raise ValueError("fce=True needs embedding_dim, the encoder's output size; got None")
        checks.positive_int("processing_steps", processing_steps)
        checks.positive_number("scale", scale)
        checks.boolean("learn_scale", learn_scale)
        self.fce = FullContextEmbedding(embedding_dim, processing_steps) if fce else None
        log_scale = torch.tensor(float(scale)).log()
        if learn_scale:
            self.log_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer("log_scale", log_scale, persistent=False)

    @property
    def scale(self) -> Tensor:
        """The factor on the cosines (0-d tensor), learned when ``learn_scale=True``."""
        return self.log_scale.exp()

    def logits_from_embeddings(self, z_support: Tensor, y_support: Tensor, z_query: Tensor) -> Tensor:
        check_support(z_support, y_support, z_query)
        if self.fce is not None:
            z_support, z_query = self.fce(z_support, z_query)
        return matching_log_probs(z_support, y_support, z_query, self.scale)
