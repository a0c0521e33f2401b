"""Dataset ``hybrid_clips``: J4R's training clips, rendered on the fly (seed paper 003, section 5).

Each item is a T-frame clip of a clean photo under a moving camera with new rain every frame and
the occlusion-aware hybrid rain model (:func:`derain.data.synth.hybrid.synth_hybrid_clip`)::

    {"rain": (T, 3, H, W), "clean": (T, 3, H, W), "streaks": (T, 3, H, W), "alpha": (T, 1, H, W)}

Items are ``video`` items (what video objectives and the trainer's truncated BPTT expect: every
tensor ``(T, C, H, W)``, cut along T) carrying the hybrid rain's ground truth as extra keys.

With a crop, the photo window is ``VIDEO_MARGIN`` times the crop so the camera has room to move.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from derain.data.arrays import to_chw
from derain.data.datasets.base import DATASETS
from derain.data.datasets.options import SyntheticVideoOptions
from derain.data.datasets.synthetic import VIDEO_MARGIN, _choose, _SyntheticDataset
from derain.data.synth.hybrid import synth_hybrid_clip

__all__ = ["HybridClipsDataset", "HybridClipsOptions"]


@dataclass(frozen=True, kw_only=True)
class HybridClipsOptions(SyntheticVideoOptions):
    """Options of ``hybrid_clips`` (those of ``synthetic_video`` plus ``occlusion``).

    Attributes:
        motion: camera motion name(s); default the hand-held drift (displacement, rescale, rotation).
        occlusion: lay opaque drops (alpha = 1 pixels showing the rain reliance); False: additive only.
    """

    motion: tuple[str, ...] = ("handheld",)
    occlusion: bool = True


@DATASETS.register("hybrid_clips")
class HybridClipsDataset(_SyntheticDataset):
    """T-frame hybrid-rain clips with B, S and alpha for every frame."""

    Options = HybridClipsOptions
    item_kind = "video"

    def _item(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        opts = self.options
        background, _ = self._background(rng, None if opts.crop is None else round(opts.crop * VIDEO_MARGIN))
        motion = _choose(rng, opts.motion)
        clip = synth_hybrid_clip(
            background,
            opts.frames,
            rng,
            **self._style(rng),
            motion=motion,
            out_size=None if opts.crop is None else (opts.crop, opts.crop),
            occlusion=opts.occlusion,
        )
        return {
            "rain": to_chw([f.image for f in clip]),
            "clean": to_chw([f.background for f in clip]),
            "streaks": to_chw([f.streaks for f in clip]),
            "alpha": torch.from_numpy(np.stack([f.alpha for f in clip]))[:, None],
        }
