"""The kinds of training item, the contract between datasets (which yield one) and objectives (which need one).

- ``paired``: ``{"rain": (3, H, W), "clean": (3, H, W), "name": str}``, optionally ``"mask": (1, H, W)`` (the
  exact rain mask, from synthetic pairs; spanet's attention target)
- ``timelapse``: ``{"frames": (2, 3, H, W)}``, two different frames of one static scene, never a clean image
- ``video``: ``{"rain": (T, 3, H, W), "clean": (T, 3, H, W)}``, ``clean`` only where the clips have it;
  more per-frame ground truth may ride along as ``(T, C, H, W)`` tensors (``hybrid_clips``: ``streaks``
  ``(T, 3, H, W)`` and the binary occlusion map ``alpha`` ``(T, 1, H, W)``, read by objective ``j4r``)

Kept apart from the datasets so an objective can name its kind without importing image decoders.
"""

from typing import Literal

__all__ = ["ItemKind"]

ItemKind = Literal["paired", "timelapse", "video"]
