"""Inference: padding, tiling with overlap blending, batching, device/dtype choice, video streaming."""

from derain.inference.convert import ImageLike, to_batch
from derain.inference.engine import DEFAULT_OVERLAP, DEFAULT_TILE, Engine, image_step, pick_device, pick_dtype
from derain.inference.video import RecurrentStep, derain_frames, make_step

__all__ = [
    "DEFAULT_OVERLAP",
    "DEFAULT_TILE",
    "Engine",
    "ImageLike",
    "RecurrentStep",
    "derain_frames",
    "image_step",
    "make_step",
    "pick_device",
    "pick_dtype",
    "to_batch",
]
