"""Rain synthesis: streak layers, compositions, presets, time-lapse scenes and moving videos.

Procedural streaks follow the Photoshop recipe of paper 004 (noise -> Gaussian blur -> threshold
-> motion blur) in depth layers where larger streaks are brighter; the occlusion-aware hybrid
model is paper 003's. Everything random comes from the ``numpy.random.Generator`` passed in.
"""

from derain.data.synth.compose import COMPOSITIONS, Composition, RainComposite, add_rain, compose
from derain.data.synth.params import (
    PHP_DIRECTIONS,
    PHP_SIZES,
    PRESETS,
    RainParams,
    get_preset,
    php_preset_name,
    preset_summary,
    resolve_params,
)
from derain.data.synth.sequences import MOTIONS, Motion, draw_regime, synth_timelapse, synth_video
from derain.data.synth.streaks import procedural_streaks, render_streaks, streak_kernel, texture_streaks

__all__ = [
    "COMPOSITIONS",
    "MOTIONS",
    "PHP_DIRECTIONS",
    "PHP_SIZES",
    "PRESETS",
    "Composition",
    "Motion",
    "RainComposite",
    "RainParams",
    "add_rain",
    "compose",
    "draw_regime",
    "get_preset",
    "php_preset_name",
    "preset_summary",
    "procedural_streaks",
    "render_streaks",
    "resolve_params",
    "streak_kernel",
    "synth_timelapse",
    "synth_video",
    "texture_streaks",
]
