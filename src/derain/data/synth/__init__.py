"""Rain synthesis: streak layers, compositions, presets, the real-mix mixtures, time-lapse scenes and videos.

Procedural streaks follow the Photoshop recipe of paper 004 (noise -> Gaussian blur -> threshold
-> motion blur) in depth layers where larger streaks are brighter; the occlusion-aware hybrid
model is paper 003's; the rain veil is JORDER's; ``real-mix`` draws a regime of real rain per
image and degrades the rainy image like a camera (Real-ESRGAN). Everything random comes from the
``numpy.random.Generator`` passed in.
"""

from derain.data.synth.compose import COMPOSITIONS, Composition, RainComposite, compose
from derain.data.synth.degrade import (
    Degradation,
    DegradeRanges,
    degrade,
    degrade_pair,
    draw_degradation,
    jpeg_round_trip,
)
from derain.data.synth.drops import near_drops
from derain.data.synth.mixture import (
    DEFAULT_STREAK_DIR,
    MIXTURES,
    REAL_MIX,
    RainRecipe,
    add_rain,
    draw_recipe,
    render_recipe,
    streak_source,
)
from derain.data.synth.params import (
    MIXTURE_NAMES,
    PHP_DIRECTIONS,
    PHP_SIZES,
    PRESETS,
    RainParams,
    check_rain_names,
    get_preset,
    php_preset_name,
    preset_summary,
    resolve_params,
)
from derain.data.synth.sequences import MOTIONS, Motion, draw_regime, synth_timelapse, synth_video
from derain.data.synth.streaks import procedural_streaks, render_streaks, streak_kernel, texture_streaks
from derain.data.synth.veil import apply_veil, draw_veil

__all__ = [
    "COMPOSITIONS",
    "DEFAULT_STREAK_DIR",
    "MIXTURES",
    "MIXTURE_NAMES",
    "MOTIONS",
    "PHP_DIRECTIONS",
    "PHP_SIZES",
    "PRESETS",
    "REAL_MIX",
    "Composition",
    "Degradation",
    "DegradeRanges",
    "Motion",
    "RainComposite",
    "RainParams",
    "RainRecipe",
    "add_rain",
    "apply_veil",
    "check_rain_names",
    "compose",
    "degrade",
    "degrade_pair",
    "draw_degradation",
    "draw_recipe",
    "draw_regime",
    "draw_veil",
    "get_preset",
    "jpeg_round_trip",
    "near_drops",
    "php_preset_name",
    "preset_summary",
    "procedural_streaks",
    "render_recipe",
    "render_streaks",
    "resolve_params",
    "streak_kernel",
    "streak_source",
    "synth_timelapse",
    "synth_video",
    "texture_streaks",
]
