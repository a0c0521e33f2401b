"""Training objectives, imported explicitly so each registers itself."""

from derain.train.objectives.base import OBJECTIVES, Objective, ObjectiveKind, build_objective, weighted_sum

from derain.train.objectives import supervised, timelapse, memory, php, spanet, video, j4r  # noqa: F401  isort: skip

__all__ = ["OBJECTIVES", "Objective", "ObjectiveKind", "build_objective", "weighted_sum"]
