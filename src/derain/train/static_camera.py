"""Refuse moving-camera footage for time-lapse training, which assumes one static background per scene.

The time-lapse objectives pair two frames of one scene as "same background, different rain"; a
panning or shaking camera breaks that silently (the model learns to blur). We measure the global
shift between a scene's first frame and a few others by phase correlation on gray frames scaled to
:data:`PROBE_SIDE` px: rain streaks are random from frame to frame and do not move the correlation
peak, a camera does. Our choices: a shift over :data:`MAX_SHIFT_PX` at that scale (0.4 % of the
frame) counts as motion when the correlation peak is clear (response >= :data:`MIN_RESPONSE`); a
weak peak (footage with little texture, where rain dominates) cannot tell and is let through.
Measured on synthetic 128-160 px clips of a Kodak photo (``derain synth``): a static camera
shows <= 0.25 px (response 0.45-0.77), a pan 4-29 px (response >= 0.6); a zoom is a scaling, not a
shift, and reads 0.3-1.5 px, so only its later frames are caught.
``derain adapt --force`` skips the check.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from derain.data.datasets import scene_frame_dir
from derain.data.io import list_images, read_rgb
from derain.errors import DatasetError

__all__ = ["MAX_SHIFT_PX", "MIN_RESPONSE", "PROBE_SIDE", "check_static", "global_shift"]

#: Long side (px) larger frames are scaled down to before measuring.
PROBE_SIDE = 256
#: Largest global shift (px at ``PROBE_SIDE``) a static camera shows (rain and sensor noise included).
MAX_SHIFT_PX = 1.0
#: Phase-correlation peak below which the shift is noise (too little texture to measure).
MIN_RESPONSE = 0.2
_PROBES = 4


def global_shift(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Length (px at :data:`PROBE_SIDE`) of the translation between two RGB frames and the peak's response."""
    scale = min(1.0, PROBE_SIDE / max(a.shape[:2]))  # never upscaled: that would magnify subpixel noise
    size = (max(8, round(a.shape[1] * scale)), max(8, round(a.shape[0] * scale)))
    gray = [cv2.resize(np.ascontiguousarray(x.mean(axis=2), dtype=np.float64), size) for x in (a, b)]
    window = cv2.createHanningWindow(size, cv2.CV_64F)
    (dx, dy), response = cv2.phaseCorrelate(gray[0], gray[1], window)
    return float(np.hypot(dx, dy)), float(response)


def check_static(scene: Path) -> None:
    """Raise if the frames of ``scene`` show a moving camera.

    Raises:
        DatasetError: names the scene, the frames and the measured shift, and ``--force``.
    """
    frames = list_images(scene_frame_dir(scene))
    if len(frames) < 2:
        return
    picks = sorted({round(i * (len(frames) - 1) / _PROBES) for i in range(1, _PROBES + 1)})
    first = read_rgb(frames[0])
    for index in picks:
        other = read_rgb(frames[index])
        if other.shape != first.shape:
            raise DatasetError(
                f"{frames[index]}: frame is {other.shape[1]}x{other.shape[0]} but {frames[0].name} "
                f"is {first.shape[1]}x{first.shape[0]}"
            )
        shift, response = global_shift(first, other)
        if shift > MAX_SHIFT_PX and response >= MIN_RESPONSE:
            raise DatasetError(
                f"{scene}: the camera moves ({shift:.1f} px at {PROBE_SIDE} px between {frames[0].name} and "
                f"{frames[index].name}); time-lapse training needs a static camera (--force to train anyway)"
            )
