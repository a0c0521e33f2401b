"""Model families. Each family module registers its variants on import (explicit list below)."""

from derain.models.base import DerainModel, ModelOutput, pad_to_multiple
from derain.models.registry import MODELS, ModelSpec, build_model, register_model

# Family modules are imported here, explicitly, so registration never depends on file names.
from derain.models import baseline, timelapse, memory, fastnet, php, spanet, j4r  # noqa: F401  isort: skip

__all__ = ["MODELS", "DerainModel", "ModelOutput", "ModelSpec", "build_model", "pad_to_multiple", "register_model"]
