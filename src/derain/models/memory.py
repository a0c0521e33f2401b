"""``memory``: encoder-decoder with a rain-streak memory (Cho, Kim & Sohn, "Memory-guided Image
De-raining Using Time-Lapse Data", seed paper 001).

The encoder (Table I) brings the image to 1/8 scale; each 1/8-scale feature vector is a *query*.
A memory of ``M`` L2-normalised items is *read* (softmax over items of the cosine similarity,
eqs. 2-4) and the retrieved feature is concatenated with the query for the decoder, which
predicts the rain layer ``R``; ``B = I - R``. During training the items are *updated* without
gradient (eqs. 5-6): each item moves towards the queries for which it is the nearest item, weighted
by ``beta`` (softmax over query positions); in eval mode they are frozen. The items are a
registered buffer, so they travel with the weights.

Choices where the paper is vague (also in ``docs/methods/memory.md``):

* Width: Table I's 64 channels everywhere (the text's ``C = 32`` conflicts); this gives
  815,683 trainable parameters, the paper's "0.81 M". The 20 x 64 memory items are a buffer,
  not parameters.
* Each decoder level is ``3x3`` transposed conv (stride 2) + ReLU, then two ``3x3`` conv + ReLU
  on ``{upsampled, skip}`` (Table I); the output conv has no activation.
* The paper feeds ``[-1, 1]`` images; our contract is ``[0, 1]``. We map ``x -> 2x - 1`` inside,
  so the network's output ``R'`` lives in ``[-1, 1]`` units and the rain layer in ``[0, 1]``
  units is ``R = R' / 2``.
* ``B = clamp(I - R, 0, 1)`` in training and inference (as in Cho et al. 2020): the output stays
  a valid image, and the self-consistency loss ``|I - (B + R)|`` then penalises rain estimates
  that push ``B`` out of range (without the clamp it would be identically zero).
* The update follows MNAD (Park et al. 2020, the paper's ref. [59], whose memory module the paper
  adopts): queries are L2-normalised; ``beta`` is one softmax over all query positions of the
  whole batch (one update per forward pass); item ``m`` adds only the queries ``U_m`` whose
  nearest item (highest read weight) is ``m`` -- the ``q^{k'}`` of eq. 6 --, each weighted by
  ``beta_km / max_k beta_km`` (MNAD's rescaling, so the most similar query counts 1); an item
  no query chose is left as it is. Eq. 6 as printed sums ``beta q`` over *all* queries; every
  item then receives nearly the same vector (the mean query) and the items collapse to one
  (issue #9: the bundled weights' 20 items were identical, all read weights 1/20). That rule is
  kept in the tests only, to show the collapse.
* The query is the last encoder conv **before** its ReLU (``signed_query``; MNAD's encoder also
  ends in a conv without activation). After a ReLU every query lies in the non-negative orthant,
  one item ends up nearest to all of them, and the per-item update then only ever moves that
  item: the other items are dead (issue #9, second cause). The decoder's bottleneck sees the same
  signed query. Weights trained before this switch (the ReLU query) load with
  ``signed_query=False`` (:attr:`~derain.models.registry.ModelSpec.legacy`), so they compute
  exactly what they were trained to.
* Items are "randomly initialized" in the paper; with ``init_from_queries`` (default) the first
  training forward of a freshly built model replaces them by k-means++ picks among that batch's
  L2-normalised queries, so every item starts inside the query distribution instead of at a random
  direction no query is near (which would leave it dead). Items loaded from a file are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from derain.layers import DoubleConv
from derain.models.base import UNET_RADIUS, DerainModel, ModelOutput, Tiling, pad_to_multiple
from derain.models.registry import ModelSpec, register_model
from derain.schema import PositiveInt

__all__ = [
    "MemoryConfig",
    "MemoryDerainer",
    "RainMemory",
    "init_items",
    "item_similarity",
    "memory_read",
    "memory_update",
    "read_entropy",
]


@dataclass(frozen=True)
class MemoryConfig:
    """Hyper-parameters of :class:`MemoryDerainer`.

    Attributes:
        channels: width of every conv (Table I: 64).
        items: number of memory items ``M`` (paper: 20).
        use_memory: False builds the plain encoder-decoder of the Table IV ablation (the decoder
            then sees the query concatenated with zeros, so both variants have the same shape).
        signed_query: True reads the query from the last encoder conv before its ReLU (signed);
            False is the ReLU'd query of the weights trained before issue #9's second fix.
        init_from_queries: True initialises the items from the first training batch's queries
            (k-means++); False keeps the random (``randn``) initialisation.
    """

    channels: PositiveInt = 64
    items: PositiveInt = 20
    use_memory: bool = True
    signed_query: bool = True
    init_from_queries: bool = True


def memory_read(query: torch.Tensor, items: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Read the memory for every query position (eqs. 2-4).

    Args:
        query: ``(B, C, h, w)`` encoder features.
        items: ``(M, C)`` memory items.

    Returns:
        ``(retrieved, weights)``: ``(B, C, h, w)`` weighted item average and the read weights
        ``(B, M, h, w)`` (softmax over items of the cosine similarity).
    """
    sim = torch.einsum("bchw,mc->bmhw", F.normalize(query, dim=1), F.normalize(items, dim=1))
    weights = sim.softmax(dim=1)
    return torch.einsum("bmhw,mc->bchw", weights, items), weights


@torch.no_grad()
def memory_update(query: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
    """Return updated items (eqs. 5-6 with MNAD's per-item query assignment).

    ``p_m <- normalize(p_m + sum_{k in U_m} beta_km / max_k' beta_k'm * q_k)`` where ``U_m`` are the
    query positions whose nearest item is ``m`` and ``beta`` is the softmax over all positions of
    the cosine similarity (see the module docstring for why the assignment matters).

    Args:
        query: ``(B, C, h, w)`` encoder features.
        items: ``(M, C)`` current items.

    Returns:
        ``(M, C)`` new unit-norm items; no gradient flows.
    """
    q = F.normalize(query, dim=1).permute(0, 2, 3, 1).reshape(-1, query.shape[1])  # (K, C)
    sim = F.normalize(items, dim=1) @ q.T  # (M, K)
    beta = sim.softmax(dim=1)  # softmax over query positions
    nearest = F.one_hot(sim.argmax(dim=0), num_classes=items.shape[0]).T.to(q.dtype)  # (M, K): U_m
    weight = nearest * beta / beta.amax(dim=1, keepdim=True)
    return F.normalize(items + weight @ q, dim=1)


@torch.no_grad()
def init_items(query: torch.Tensor, count: int) -> torch.Tensor:
    """Pick ``count`` items among the L2-normalised queries by k-means++ seeding.

    The first pick is uniform, each next one is drawn with probability proportional to its squared
    distance to the nearest pick so far (``2 - 2 cos``), so items start spread over the queries
    without being only outliers (as farthest-point picks would be). The draws use their own
    generator (seed 0), so the picks depend on the queries only and the global RNG stream is left
    as it was. With fewer distinct queries than ``count``, the remaining items are random.

    Args:
        query: ``(B, C, h, w)`` encoder features.
        count: number of items ``M``.

    Returns:
        ``(M, C)`` unit-norm items.
    """
    q = F.normalize(query.float(), dim=1).permute(0, 2, 3, 1).reshape(-1, query.shape[1])
    gen = torch.Generator(device=q.device).manual_seed(0)
    picks = [int(torch.randint(q.shape[0], (1,), generator=gen, device=q.device))]
    dist = _sq_dist(q, q[picks[0]])
    while len(picks) < count and bool(dist.any()):
        picks.append(int(torch.multinomial(dist, 1, generator=gen)))
        dist = torch.minimum(dist, _sq_dist(q, q[picks[-1]]))
    rest = F.normalize(torch.randn(count - len(picks), q.shape[1], generator=gen, device=q.device), dim=1)
    return torch.cat([q[picks], rest])


def _sq_dist(unit: torch.Tensor, pick: torch.Tensor) -> torch.Tensor:
    """Squared distances ``2 - 2 cos`` of unit rows to a unit vector; rounding noise (a repeat) is 0."""
    d = 2 - 2 * unit @ pick
    return torch.where(d > 1e-6, d, torch.zeros_like(d))


def item_similarity(items: torch.Tensor) -> float:
    """Mean pairwise cosine similarity of the ``(M, C)`` items (1.0 = collapsed to one vector)."""
    unit = F.normalize(items.detach().float(), dim=1)
    m = unit.shape[0]
    if m < 2:
        return 1.0
    gram = unit @ unit.T
    return float((gram.sum() - gram.diagonal().sum()) / (m * (m - 1)))


def read_entropy(weights: torch.Tensor) -> float:
    """Mean entropy (nats) of ``(B, M, h, w)`` read weights; ``log M`` means every item is read equally."""
    p = weights.detach().float().clamp_min(1e-12)
    return float(-(p * p.log()).sum(dim=1).mean())


class RainMemory(nn.Module):
    """The memory: ``M`` unit vectors in a buffer, read always, updated in training mode only.

    With ``init_from_queries`` the random items are replaced at the first training forward by
    :func:`init_items` picks; loading a state dict (weights file, checkpoint) cancels that.
    """

    def __init__(self, items: int, channels: int, init_from_queries: bool = False) -> None:
        super().__init__()
        self.register_buffer("items", F.normalize(torch.randn(items, channels), dim=1))
        self.pending_init = init_from_queries

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        """Loaded items are trained items: never re-initialise them."""
        self.pending_init = False
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, query: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Read with the current items, then (training only) update them in place for the next step."""
        if not self.training:
            return memory_read(query, self.items)
        if self.pending_init:
            self.pending_init = False
            self.items.copy_(init_items(query.detach(), self.items.shape[0]))
        retrieved, weights = memory_read(query, self.items.clone())  # autograd keeps this snapshot
        with torch.autocast(query.device.type, enabled=False):  # items accumulate: keep them float32
            self.items.copy_(memory_update(query.detach().float(), self.items))
        return retrieved, weights


class _UpStage(nn.Module):
    """Transposed conv x2 + ReLU, concat with the skip, two conv + ReLU."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.up = nn.Sequential(
            nn.ConvTranspose2d(channels, channels, 3, stride=2, padding=1, output_padding=1), nn.ReLU()
        )
        self.convs = DoubleConv(2 * channels, channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.convs(torch.cat([self.up(x), skip], dim=1))


class MemoryDerainer(DerainModel):
    """Table I encoder-decoder (three poolings) with the rain-streak memory at 1/8 scale.

    The output also carries ``query`` ``(B, C, h, w)`` (for the BSW loss) and ``read_weights``
    ``(B, M, h, w)`` (for ``derain inspect``; None without memory), both at the padded 1/8 scale.
    Tiling: local with an effective radius of 8 px (:data:`~derain.models.base.UNET_RADIUS`).
    """

    size_divisor = 8
    tiling = Tiling.local(UNET_RADIUS)

    def __init__(self, config: MemoryConfig = MemoryConfig()) -> None:
        super().__init__()
        self.config = config
        c = config.channels
        self.encoders = nn.ModuleList([DoubleConv(3, c), DoubleConv(c, c), DoubleConv(c, c), DoubleConv(c, c)])
        self.memory = RainMemory(config.items, c, config.init_from_queries)
        self.bottleneck = DoubleConv(2 * c, c)
        self.decoders = nn.ModuleList(_UpStage(c) for _ in range(3))
        self.head = nn.Conv2d(c, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> ModelOutput:
        """Derain ``x`` ``(B, 3, H, W)`` in [0, 1]; any ``H x W`` (padded to 8 internally)."""
        padded, (h, w) = pad_to_multiple(x, self.size_divisor)
        feat = padded * 2.0 - 1.0
        skips = []
        for i, enc in enumerate(self.encoders[:-1]):
            feat = enc(feat if i == 0 else F.max_pool2d(feat, 2))
            skips.append(feat)
        last = self.encoders[-1]
        feat = F.max_pool2d(feat, 2)
        query = last[1][0](last[0](feat)) if self.config.signed_query else last(feat)  # [1][0]: conv, no ReLU
        read_weights = None
        if self.config.use_memory:
            retrieved, read_weights = self.memory(query)
        else:
            retrieved = torch.zeros_like(query)
        feat = self.bottleneck(torch.cat([query, retrieved], dim=1))
        for dec, skip in zip(self.decoders, reversed(skips), strict=True):
            feat = dec(feat, skip)
        rain = self.head(feat)[..., :h, :w] * 0.5
        return ModelOutput(background=(x - rain).clamp(0.0, 1.0), rain=rain, query=query, read_weights=read_weights)


register_model(
    ModelSpec(
        name="memory",
        config_cls=MemoryConfig,
        build=MemoryDerainer,
        config=MemoryConfig(),
        tiny={"channels": 8, "items": 4},
        legacy={"signed_query": False},
    )
)
