"""The Python API: ``derain.load("baseline")(image)``.

``load`` turns a registered name (bundled weights) or a ``.safetensors`` file (user weights) into a
:class:`Derainer`, which derains numpy arrays, PIL images, tensors or paths and returns the same kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from derain import DEFAULT_MODEL
from derain.checkpoint import build_from_file, bundled_weights
from derain.errors import ModelError
from derain.inference import (
    Engine,
    ImageLike,
    derain_frames,
    make_step,
    pick_device,
    pick_dtype,
    to_batch,
)
from derain.models import MODELS, DerainModel

__all__ = ["DEFAULT_BATCH", "DEFAULT_MODEL", "Derainer", "bundled_weights", "list_models", "load"]

#: Same-sized images run together in batches of at most this many.
DEFAULT_BATCH = 8


def list_models() -> list[str]:
    """Registered model names, sorted (with or without bundled weights)."""
    return MODELS.names()


def load(
    name_or_path: str | Path = DEFAULT_MODEL,
    device: str | torch.device = "auto",
    *,
    dtype: str | torch.dtype | None = None,
    tile: int | None = None,
    overlap: int | None = None,
    batch_size: int = DEFAULT_BATCH,
    self_ensemble: bool = False,
) -> Derainer:
    """Build a ready-to-use derainer.

    Args:
        name_or_path: a registered model name (loads its bundled weights) or a ``.safetensors``
            file written by :func:`derain.checkpoint.save_weights`; the default model
            (:data:`derain.DEFAULT_MODEL`) when omitted, as ``derain run`` without ``--model``.
        device: ``"auto"`` (cuda, then mps, then cpu), ``"cpu"``, ``"cuda:0"``, ...
        dtype: compute dtype: None/``"fp32"``, or ``"fp16"``/``"bf16"`` on a GPU.
        tile: tile side in pixels (None: from the model's tiling policy; 0: no tiling).
        overlap: pixels shared by neighbouring tiles (None: from the model's tiling policy).
        batch_size: most images run at once by :meth:`Derainer.batch`.
        self_ensemble: also derain each tile mirrored left to right and average (twice the time,
            better on every set measured in benchmarks/results/self_ensemble.md; single-image models only).

    Raises:
        ModelError: unknown name, no bundled weights yet, or a weights file that does not fit.
        ConfigError: unavailable device, half precision on CPU, bad tile/overlap, or self-ensemble
            with a video model.
    """
    if _is_path(name_or_path):
        name, model = build_from_file(name_or_path)
    else:
        path = bundled_weights(str(name_or_path))
        if path is None:
            raise ModelError(f"{name_or_path}: no bundled weights yet; train them or pass a .safetensors file")
        name, model = str(name_or_path), build_from_file(path)[1]
    dev = pick_device(device)
    compute = pick_dtype(dtype, dev)
    engine = Engine.for_model(model, dev, compute, tile=tile, overlap=overlap, self_ensemble=self_ensemble)
    engine.prepare(model.eval().requires_grad_(False))
    return Derainer(model, name, engine, batch_size=batch_size)


def _is_path(name_or_path: str | Path) -> bool:
    text = str(name_or_path)
    return isinstance(name_or_path, Path) or text.endswith(".safetensors") or "/" in text or "\\" in text


class Derainer:
    """A loaded model plus how to run it. Call it on an image; get the same kind of image back.

    Attributes:
        model: the model (eval mode, on :attr:`device`).
        name: registered model name.
        engine: device, dtype and tiling settings.
    """

    def __init__(self, model: DerainModel, name: str, engine: Engine, *, batch_size: int = DEFAULT_BATCH) -> None:
        self.model = model
        self.name = name
        self.engine = engine
        self.batch_size = batch_size

    @property
    def device(self) -> torch.device:
        return self.engine.device

    def __repr__(self) -> str:
        e = self.engine
        mirror = ", self_ensemble=True" if e.self_ensemble else ""
        return (
            f"Derainer({self.name!r}, device={e.device}, dtype={e.dtype}, tile={e.tile}, overlap={e.overlap}{mirror})"
        )

    def __call__(self, image: ImageLike) -> Any:
        """Derain one image.

        Args:
            image: numpy ``(H, W, 3)`` (float in [0, 1], uint8 or uint16), PIL image, tensor
                ``(3, H, W)``/``(B, 3, H, W)`` in [0, 1], or a path.

        Returns:
            The same kind, shape and dtype (a path gives float32 ``(H, W, 3)`` numpy).
        """
        x, restore = to_batch(image)
        return restore(self._run(x))

    def batch(self, images: Sequence[ImageLike]) -> list[Any]:
        """Derain many images, running same-sized ones together; results keep the input order."""
        items = [to_batch(image) for image in images]
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, (x, _) in enumerate(items):
            groups.setdefault(tuple(x.shape[1:]), []).append(i)
        results: list[Any] = [None] * len(items)
        for idxs in groups.values():
            out = self._run(torch.cat([items[i][0] for i in idxs]))
            for i, part in zip(idxs, out.split([items[i][0].shape[0] for i in idxs]), strict=True):
                results[i] = items[i][1](part)
        return results

    def frames(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Derain a video's float ``(H, W, 3)`` frames in order (video models carry their state)."""
        return derain_frames(self.model, self.engine, frames)

    def step(self, frame: ImageLike, state: Any = None) -> tuple[Any, Any]:
        """Derain one frame of a stream: ``state = None; for f in frames: out, state = derainer.step(f, state)``.

        ``state`` is opaque: a video model's recurrent memory (one per tile position), nothing for an
        image model. It holds only the latest memory, so a stream of any length runs in flat memory.
        Pass None to start a new stream. ``frame`` is any :data:`ImageLike`; ``out`` is the same kind.
        """
        x, restore = to_batch(frame)
        stepper = make_step(self.model) if state is None else state
        return restore(self.engine.run(stepper, x)), stepper

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        """CPU float ``(B, 3, H, W)`` -> CPU float32, ``batch_size`` images at a time (fresh state each)."""
        chunks = [self.engine.run(make_step(self.model), chunk) for chunk in x.split(self.batch_size)]
        return chunks[0] if len(chunks) == 1 else torch.cat(chunks)
