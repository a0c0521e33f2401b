"""``j4r``: Joint Recurrent Rain Removal and Reconstruction network (Liu, Yang, Yang & Guo, CVPR 2018,
seed paper 003), made causal: one frame in, one derained frame out, a recurrent state carried.

Per frame ``O_t`` (Fig. 4, eqs. 11-14):

* a residual CNN extractor gives spatial features ``F_t`` (eq. 11);
* D-Net predicts the 2-class degradation map ``alpha_t`` (additive streak vs. opaque occlusion)
  from ``[F_t, H_{t-1}]`` and embeds it (eqs. 12-13);
* F-Net, a convolutional GRU, fuses ``F_t`` with the memory ``H_{t-1}``; both of its gates take
  the degradation embedding: update gate ``z`` (sigmoid), read gate ``r`` (ReLU, as eq. 14
  prints it), candidate ``tanh`` (eq. 14);
* R-Net on ``F_t`` predicts the streak layer ``S_t`` (spatial removal), C-Net on ``H_{t-1}`` the
  high-pass detail ``E(B_t)`` (temporal reconstruction), JRC-Net on ``H_t`` the background
  ``B_t``. All three have the extractor's architecture. R-Net and C-Net only feed the training
  losses, so in eval mode they are skipped (``rain`` and ``detail`` are then ``None``).

Choices where the paper is vague (also in ``docs/methods/j4r.md``):

* Causal: the authors' test code uses a 9-frame window centred on each frame (4 future frames);
  here ``H_t`` only ever sees frames ``<= t``; the first frame starts from ``H_0 = 0``.
* Residual block (eq. 11): ``out = ReLU(conv(ReLU(conv(x))) + x)``; the extractor is a 3x3 conv
  to ``channels`` + ReLU followed by ``blocks`` such blocks, and R/C/JRC-Net add a 3x3 output conv.
* JRC-Net predicts a residual: ``B_t = O_t + JRC(H_t)``, its output conv initialised to zero (our
  choice: training starts at the identity, which converges far faster on a CPU budget than
  predicting ``B_t`` from scratch).
* D-Net: eqs. 12-13 print no activation between their two convs (two linear convs collapse into
  one); we put a ReLU after the first conv of each pair. The embedding has ``channels`` channels.
* Stacked GRU layers (``gru_layers``): layer ``j > 0`` takes layer ``j - 1``'s new state as input;
  every layer's gates see the same embedding; D-Net and C-Net read the top layer's ``H_{t-1}``.
* Colour: ``luminance=True`` runs on Y (BT.601 full range, as JPEG) and takes Cb/Cr from the input
  frame, like the authors' test code; ``False`` runs on RGB. ``rain`` and ``detail`` are in the
  model's space (1 or 3 channels): :meth:`J4RDerainer.to_model_space` maps targets there.

Widths: the paper uses 64 channels (``j4r.paper``, three residual blocks per sub-network: the
supplementary material with the exact depth is not available to us); the bundled ``j4r`` is 16
channels with two blocks, so that it trains in half an hour and runs on 640x480 video on a CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from derain.models.base import DerainModel, ModelOutput, Tiling
from derain.models.registry import ModelSpec, register_model
from derain.schema import NonNegativeInt, PositiveInt

__all__ = ["ConvGRUCell", "DegradationNet", "J4RConfig", "J4RDerainer", "J4RState", "ResidualCNN", "receptive_radius"]

#: The recurrent state: one ``(B, channels, H, W)`` memory per GRU layer, bottom to top.
J4RState = tuple[torch.Tensor, ...]

#: BT.601 full-range RGB -> Y weights (JPEG's YCbCr); Cb/Cr are offsets from Y, so Y alone is linear.
_Y = (0.299, 0.587, 0.114)


@dataclass(frozen=True)
class J4RConfig:
    """Hyper-parameters of :class:`J4RDerainer`.

    Attributes:
        channels: width of every sub-network and of the GRU memory (paper: 64).
        blocks: residual blocks in the extractor and in each of R-, C- and JRC-Net.
        gru_layers: stacked ConvGRU layers in F-Net.
        luminance: run on Y only and keep the input's chroma (the authors' test code), else RGB.
    """

    channels: PositiveInt = 16
    blocks: NonNegativeInt = 2
    gru_layers: PositiveInt = 1
    luminance: bool = False


class _ResidualBlock(nn.Module):
    """Eq. 11: ``ReLU(W_mid * ReLU(W_in * x + b_in) + b_mid + x)`` -- the ReLU comes after the sum."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv_mid = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv_mid(torch.relu(self.conv_in(x))) + x)


class ResidualCNN(nn.Module):
    """Fig. 5: 3x3 conv + ReLU to ``width``, ``blocks`` residual blocks, then an optional 3x3 output conv.

    Args:
        in_ch: input channels.
        width: feature channels.
        blocks: residual blocks.
        out_ch: channels of the output conv; None returns the features (the extractor).
    """

    def __init__(self, in_ch: int, width: int, blocks: int, out_ch: int | None = None) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_ch, width, 3, padding=1), nn.ReLU())
        self.blocks = nn.Sequential(*(_ResidualBlock(width) for _ in range(blocks)))
        self.head = nn.Conv2d(width, out_ch, 3, padding=1) if out_ch is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))


class DegradationNet(nn.Module):
    """D-Net (eqs. 12-13): ``[F_t, H_{t-1}]`` -> 2-class logits -> softmax -> embedding ``f^d_4``."""

    def __init__(self, feat: int, hidden: int, embed: int) -> None:
        super().__init__()
        self.detect = nn.Sequential(
            nn.Conv2d(feat + hidden, embed, 3, padding=1), nn.ReLU(), nn.Conv2d(embed, 2, 3, padding=1)
        )
        self.embed = nn.Sequential(nn.Conv2d(2, embed, 3, padding=1), nn.ReLU(), nn.Conv2d(embed, embed, 3, padding=1))

    def forward(self, feat: torch.Tensor, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(logits, embedding)``; ``logits`` ``(B, 2, H, W)``, class 1 = occluded."""
        logits = self.detect(torch.cat([feat, memory], dim=1))
        return logits, self.embed(logits.softmax(dim=1))


class ConvGRUCell(nn.Module):
    """F-Net, one layer (eq. 14) with the degradation embedding ``d`` in both gates::

        z = sigmoid(W_z x + U_z h + V_z d)
        r = ReLU(W_r x + U_r h + V_r d)
        h~ = tanh(W_h x + U_h (r * h))
        h' = (1 - z) h + z h~

    ``W`` convs carry the biases; ``U`` and ``V`` have none (one bias per gate suffices).

    Args:
        in_ch: channels of the input ``x``.
        hidden: channels of the memory ``h``.
        embed: channels of the embedding ``d``.
        kernel: conv kernel side (paper: 3).
    """

    def __init__(self, in_ch: int, hidden: int, embed: int, kernel: int = 3) -> None:
        super().__init__()
        pad = kernel // 2
        self.hidden = hidden
        self.w = nn.Conv2d(in_ch, 3 * hidden, kernel, padding=pad)  # W_z, W_r, W_h
        self.u = nn.Conv2d(hidden, 2 * hidden, kernel, padding=pad, bias=False)  # U_z, U_r
        self.v = nn.Conv2d(embed, 2 * hidden, kernel, padding=pad, bias=False)  # V_z, V_r
        self.u_h = nn.Conv2d(hidden, hidden, kernel, padding=pad, bias=False)

    def forward(self, x: torch.Tensor, h: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
        wz, wr, wh = self.w(x).chunk(3, dim=1)
        uz, ur = self.u(h).chunk(2, dim=1)
        vz, vr = self.v(d).chunk(2, dim=1)
        z = torch.sigmoid(wz + uz + vz)
        r = torch.relu(wr + ur + vr)
        candidate = torch.tanh(wh + self.u_h(r * h))
        return (1 - z) * h + z * candidate


def receptive_radius(config: J4RConfig) -> int:
    """Pixels of input a frame's background depends on: the 3x3 convs on its longest path.

    Extractor (``1 + 2 blocks``) -> D-Net (2 detect + 2 embed) -> the update gate of each GRU layer
    (1 per layer) -> JRC-Net (``2 + 2 blocks``): 16 at the default depth, 8 with no residual blocks.
    Over time the memory carries context further, but the engine keeps one memory per tile.
    """
    return (1 + 2 * config.blocks) + 4 + config.gru_layers + (2 + 2 * config.blocks)


class J4RDerainer(DerainModel):
    """Causal J4R-Net: ``forward(frame, state) -> (ModelOutput, state)``, one frame per call.

    ``frame`` is ``(B, 3, H, W)`` in [0, 1]; ``state`` is None (start of a clip) or what the
    previous call returned. The output carries ``background`` (RGB, clamped to [0, 1]), and in
    training mode ``rain`` (``S_t``, R-Net) and ``detail`` (``E(B_t)``, C-Net), both in the model's
    colour space; ``alpha`` is D-Net's occlusion logit ``(B, 1, H, W)``: the difference of its two
    class logits, so ``sigmoid(alpha)`` is eq. 12's softmax probability of "occluded".
    """

    is_video = True

    def __init__(self, config: J4RConfig = J4RConfig()) -> None:
        super().__init__()
        self.config = config
        self.tiling = Tiling.local(receptive_radius(config))
        c, k = config.channels, config.blocks
        io = 1 if config.luminance else 3
        self.extractor = ResidualCNN(io, c, k)
        self.dnet = DegradationNet(c, c, c)
        self.fnet = nn.ModuleList(ConvGRUCell(c, c, c) for _ in range(config.gru_layers))
        self.rnet = ResidualCNN(c, c, k, io)
        self.cnet = ResidualCNN(c, c, k, io)
        self.jrcnet = ResidualCNN(c, c, k, io)
        nn.init.zeros_(self.jrcnet.head.weight)  # B_t = O_t at the start: training begins at the identity
        nn.init.zeros_(self.jrcnet.head.bias)

    def to_model_space(self, rgb: torch.Tensor) -> torch.Tensor:
        """``(..., 3, H, W)`` RGB -> the model's working space: Y ``(..., 1, H, W)`` or RGB unchanged."""
        if not self.config.luminance:
            return rgb
        w = rgb.new_tensor(_Y).view(3, 1, 1)
        return (rgb * w).sum(dim=-3, keepdim=True)

    def initial_state(self, frame: torch.Tensor) -> J4RState:
        """Zero memories for a clip of ``frame``'s batch size and size."""
        b, _, h, w = frame.shape
        return tuple(frame.new_zeros(b, self.config.channels, h, w) for _ in self.fnet)

    def forward(self, x: torch.Tensor, state: J4RState | None = None) -> tuple[ModelOutput, J4RState]:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"j4r: expected one frame (B, 3, H, W), got {tuple(x.shape)}")
        if state is None or state[0].shape[-2:] != x.shape[-2:] or state[0].shape[0] != x.shape[0]:
            state = self.initial_state(x)
        obs = self.to_model_space(x)
        feat = self.extractor(obs)
        previous = state[-1]
        logits, embedding = self.dnet(feat, previous)
        layer_in, new_state = feat, []
        for cell, h in zip(self.fnet, state, strict=True):
            layer_in = cell(layer_in, h, embedding)
            new_state.append(layer_in)
        estimate = obs + self.jrcnet(layer_in)
        background = self._to_rgb(estimate, x).clamp(0.0, 1.0)
        rain = detail = None
        if self.training:
            rain, detail = self.rnet(feat), self.cnet(previous)
        alpha = logits[:, 1:2] - logits[:, 0:1]  # 2-class softmax == sigmoid of the logit difference
        return ModelOutput(background=background, rain=rain, alpha=alpha, detail=detail), tuple(new_state)

    def _to_rgb(self, estimate: torch.Tensor, frame: torch.Tensor) -> torch.Tensor:
        """Model space -> RGB: in luminance mode, add the Y change to every channel (keeps Cb/Cr)."""
        if not self.config.luminance:
            return estimate
        return frame + (estimate - self.to_model_space(frame))


_TINY = {"channels": 4, "blocks": 0}  # radius 8: the registry tests' tiled run fits their image
register_model(ModelSpec(name="j4r", config_cls=J4RConfig, build=J4RDerainer, config=J4RConfig(), tiny=_TINY))
register_model(
    ModelSpec(
        name="j4r.paper",
        config_cls=J4RConfig,
        build=J4RDerainer,
        config=J4RConfig(channels=64, blocks=3),
        tiny=_TINY,
    )
)
