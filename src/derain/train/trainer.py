"""The trainer: one loop for every objective, with exact resume, validation, AMP and torchrun DDP.

Run folder (``output.dir``)::

    config.yaml                 the resolved config
    log.jsonl, curves.png       see :mod:`derain.train.runlog`
    checkpoints/step_000100.pt  full state every ``train.ckpt_every`` steps (last ``keep_last`` kept)
    checkpoints/best.pt         model weights of the best validation PSNR

Exact resume: a checkpoint holds model, objective, optimiser, scheduler, grad scaler, every rank's
RNG states and the data position. The data order of epoch ``e`` is a permutation drawn from
``(seed, e)`` and the datasets seed their items from ``(seed, epoch, index)``, so a resumed run
replays exactly the batches and losses an uninterrupted run would have seen.
"""

from __future__ import annotations

import contextlib
import math
import os
import shlex
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from derain.atomic import atomic_path
from derain.errors import ConfigError, DerainError
from derain.hardware import describe_hardware
from derain.inference import Engine
from derain.models import DerainModel
from derain.train.batches import BatchStream, to_device
from derain.train.config import TrainConfig, config_to_dict
from derain.train.distributed import DistEnv, all_gather_objects, all_reduce_mean, barrier, init_distributed, shutdown
from derain.train.objectives import Objective, build_objective
from derain.train.objectives.video import detach_state, time_windows
from derain.train.optim import Ema, build_optimizer, freeze, lr_factor
from derain.train.preflight import build_checked_dataset
from derain.train.resume import check_same_model, newest_readable_checkpoint, one_line
from derain.train.rng import rng_state, seed_everything, set_rng_state
from derain.train.runlog import JsonlLog, plot_curves
from derain.train.validate import validate
from derain.train.warmstart import initial_model

__all__ = ["TrainResult", "TrainingDivergedError", "latest_checkpoint", "train"]

_AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class TrainingDivergedError(DerainError):
    """The loss (or gradient norm) became NaN/inf; the last good checkpoint is kept."""


@dataclass(frozen=True)
class TrainResult:
    """What a finished run produced (on rank 0; other ranks get the same step count)."""

    run_dir: Path
    steps: int
    best_psnr: float | None
    export_path: Path | None


def train(
    config: TrainConfig, *, resume: bool = False, command: str | None = None, recipe: str | None = None
) -> TrainResult:
    """Train ``config`` end to end (or continue its run with ``resume``) and export the best weights.

    Args:
        config: a validated recipe.
        resume: continue from the latest checkpoint in ``output.dir`` (start fresh if there is none).
        command: the command line recorded in the manifest (default: ``derain`` + ``sys.argv[1:]``).
        recipe: the YAML file ``config`` was loaded from, recorded in the manifest.

    Raises:
        ConfigError: the run folder already has checkpoints and ``resume`` is off, or the dataset is
            too small for one batch per rank.
        TrainingDivergedError: the loss became NaN/inf.
    """
    env = init_distributed(config.train.device)
    try:
        return _Run(config, env, command or shlex.join(["derain", *sys.argv[1:]]), recipe).run(resume)
    finally:
        shutdown(env)


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """The newest ``step_*.pt`` of a run folder, or None."""
    found = sorted((Path(run_dir) / "checkpoints").glob("step_*.pt"))
    return found[-1] if found else None


# ----------------------------------------------------------------------------- pieces


class _TrainStep(nn.Module):
    """Model + objective as one module, so DDP syncs the gradients of both (objectives may own parameters).

    Returns ``(loss, terms, state)``: video objectives take and hand back the clip's recurrent state.
    """

    def __init__(self, model: DerainModel, objective: Objective) -> None:
        super().__init__()
        self.model = model
        self.objective = objective

    def forward(self, batch: dict[str, Any], progress: float, state: Any = None) -> tuple[torch.Tensor, dict, Any]:
        if self.objective.kind == "video":
            return self.objective(self.model, batch, progress, state)
        return (*self.objective(self.model, batch, progress), None)


def _save(payload: dict[str, Any], path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


# ----------------------------------------------------------------------------- the run


class _Run:
    """State of one training process; methods hand values back rather than stash them."""

    def __init__(self, config: TrainConfig, env: DistEnv, command: str, recipe: str | None) -> None:
        self.config, self.env, self.command, self.recipe = config, env, command, recipe
        tc = config.train
        self.run_dir = Path(config.output.dir)
        self.ckpt_dir = self.run_dir / "checkpoints"
        self.log = JsonlLog(self.run_dir / "log.jsonl")
        if tc.deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = not tc.deterministic
        seed_everything(tc.seed)
        layout = torch.channels_last if tc.channels_last else torch.preserve_format
        self.model = initial_model(config.model).to(env.device, memory_format=layout)
        freeze(self.model, tc.freeze)
        self.objective = build_objective(config.objective.name, config.objective.options)
        self.objective.to(env.device, memory_format=layout)
        seed_everything(tc.seed + env.rank)
        self.dataset = build_checked_dataset(config)  # every file opened once, before any worker sees one
        self.stream = BatchStream(self.dataset, tc, env)
        step_module = _TrainStep(self.model, self.objective)
        self.step_module: nn.Module = DistributedDataParallel(step_module) if env.distributed else step_module
        self.optimizer = build_optimizer(self.model, self.objective, tc)
        self.params = [p for group in self.optimizer.param_groups for p in group["params"]]
        self.ema = Ema(self.model, tc.ema) if tc.ema is not None else None
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda s: lr_factor(s, tc))
        self.amp = env.device.type == "cuda" and tc.amp != "off"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp and tc.amp == "fp16")
        self.step = 0
        self.elapsed = 0.0  # training seconds of earlier sessions of this run
        self.cpu_before = 0.0  # trainer-process CPU seconds of earlier sessions of this run
        self.cpu_start = time.process_time()
        self.best: dict[str, float] | None = None

    # -- lifecycle

    def run(self, resume: bool) -> TrainResult:
        self._prepare_dir(resume)
        t0, self.cpu_start = time.monotonic(), time.process_time()
        total = self.config.train.steps
        bar = tqdm(total=total, initial=self.step, disable=not self.env.is_main, dynamic_ncols=True, unit="step")
        while self.step < total:
            batch = self.next_batch()
            loss, terms = self._optimise(batch, self.step / total)
            self.step += 1
            seconds = self.elapsed + time.monotonic() - t0
            self._bookkeeping(loss, terms, seconds)
            bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
            bar.update(1)
        bar.close()
        wall = self.elapsed + time.monotonic() - t0
        export = self._export(wall) if self.env.is_main else None
        return TrainResult(self.run_dir, self.step, self.best["psnr_y"] if self.best else None, export)

    def _prepare_dir(self, resume: bool) -> None:
        latest = latest_checkpoint(self.run_dir)
        if latest is not None and not resume:
            raise ConfigError(
                f"output.dir: {self.run_dir} already has checkpoints; pass --resume to continue it "
                "or choose another output.dir"
            )
        if latest is not None:
            self._load_checkpoint(*newest_readable_checkpoint(self.ckpt_dir, self.env.device, report=self.env.is_main))
            if self.env.is_main:
                print(f"derain: resumed {self.run_dir} from step {self.step}", file=sys.stderr)
        elif resume and self.env.is_main:
            print(f"derain: no checkpoint in {self.ckpt_dir}; starting a fresh run", file=sys.stderr)
        if self.env.is_main:
            self.log.path.parent.mkdir(parents=True, exist_ok=True)
            self.log.truncate_after(self.step)
            with atomic_path(self.run_dir / "config.yaml") as tmp:
                tmp.write_text(yaml.safe_dump(config_to_dict(self.config), sort_keys=False), encoding="utf-8")
        barrier(self.env)

    # -- one step

    def next_batch(self) -> dict[str, Any]:
        """The next batch on the training device, in the model's memory format."""
        return to_device(next(self.stream), self.env.device, self.config.train.channels_last)

    def _optimise(self, batch: dict[str, Any], progress: float) -> tuple[float, dict[str, float]]:
        """Forward, NaN guard, backward, clip, step; returns the rank-averaged loss and this rank's terms.

        Video clips with ``train.tbptt`` run window by window: each window's loss, weighted by its share
        of the clip, is back-propagated at once (the graph never spans more than ``tbptt`` frames) and
        the detached state carries on; the gradients add up to one optimiser step per clip.
        """
        tc = self.config.train
        video = self.objective.kind == "video"
        windows = time_windows(batch, tc.tbptt) if video else [batch]
        self.optimizer.zero_grad(set_to_none=True)
        value, terms, state = 0.0, {}, None
        for i, window in enumerate(windows):
            share = window["rain"].shape[1] / batch["rain"].shape[1] if video else 1.0
            last = i == len(windows) - 1 or not isinstance(self.step_module, DistributedDataParallel)
            with contextlib.nullcontext() if last else self.step_module.no_sync():  # DDP syncs once per clip
                with torch.autocast(self.env.device.type, dtype=_AMP_DTYPES.get(tc.amp), enabled=self.amp):
                    loss, window_terms, state = self.step_module(window, progress, state)
                part = all_reduce_mean(loss.detach(), self.env)
                self._guard(part, "loss")
                self.scaler.scale(loss * share).backward()
            state = detach_state(state)
            value += share * part
            terms = {k: terms.get(k, 0.0) + share * float(v) for k, v in window_terms.items()}
        if tc.grad_clip is not None:
            self.scaler.unscale_(self.optimizer)
            norm = torch.nn.utils.clip_grad_norm_(self.params, tc.grad_clip)
            if not self.scaler.is_enabled():  # fp16 overflow is the scaler's business: it skips the step
                self._guard(float(norm), "gradient norm")
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        if self.ema is not None:
            self.ema.update(self.model)
        return value, terms

    def _guard(self, value: float, what: str) -> None:
        if math.isfinite(value):
            return
        kept = latest_checkpoint(self.run_dir)
        where = f"last good checkpoint: {kept}" if kept else "no checkpoint was written yet"
        raise TrainingDivergedError(
            f"{self.run_dir}: {what} is {value} at step {self.step + 1}; training stopped ({where}). "
            "Lower train.lr, set train.grad_clip or check the data."
        )

    def _bookkeeping(self, loss: float, terms: dict[str, float], seconds: float) -> None:
        tc, val, step = self.config.train, self.config.val, self.step
        last = step == tc.steps
        if self.env.is_main and (step % tc.log_every == 0 or last):
            lr = self.optimizer.param_groups[0]["lr"]
            self.log.write({"step": step, "loss": loss, **terms, "lr": lr, "time": round(seconds, 3)})
        validated = val is not None and (step % val.every == 0 or last)
        if validated:
            self._validate()
        if step % tc.ckpt_every == 0 or last:
            self._checkpoint(seconds)
        if self.env.is_main and (validated or last):
            plot_curves(self.log.path, self.run_dir / "curves.png")

    # -- validation

    @property
    def weights_model(self) -> DerainModel:
        """The weights that are validated and exported: the EMA ones with ``train.ema``."""
        return self.ema.module if self.ema is not None else self.model

    def _validate(self) -> None:
        """Rank 0 scores the val folder through the engine, logs it and keeps ``best.pt``; the others wait."""
        if self.env.is_main:
            model = self.weights_model
            engine = Engine.for_model(model, self.env.device, torch.float32)
            metrics = validate(model, self.config.val.path, engine, self.config.val.max_images)
            self.log.write({"step": self.step, "val": metrics})
            if self.best is None or metrics["psnr_y"] > self.best["psnr_y"]:
                self.best = {**metrics, "step": self.step}
                _save({"model": model.state_dict(), "step": self.step, "val": metrics}, self.ckpt_dir / "best.pt")
        barrier(self.env)

    def cpu_seconds(self) -> float:
        """CPU seconds of this run's trainer process, all its threads, over every session (not the data workers').

        CPU time, unlike wall time, does not grow when other jobs share the machine: it is the cost a
        manifest entry can honestly compare across runs.
        """
        return self.cpu_before + time.process_time() - self.cpu_start

    # -- checkpoints

    def _checkpoint(self, seconds: float) -> None:
        """All ranks hand in their RNG states; rank 0 writes ``step_N.pt`` atomically and prunes old ones."""
        rng = all_gather_objects(rng_state(self.env.device), self.env)
        if self.env.is_main:
            payload = {
                "step": self.step,
                "model": self.model.state_dict(),
                "ema": self.ema.state_dict() if self.ema is not None else None,
                "objective": self.objective.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "scaler": self.scaler.state_dict(),
                "rng": rng,
                "data": self.stream.state(),
                "elapsed_s": seconds,
                "cpu_s": self.cpu_seconds(),
                "best": self.best,
                "config": config_to_dict(self.config),
            }
            _save(payload, self.ckpt_dir / f"step_{self.step:06d}.pt")
            for old in sorted(self.ckpt_dir.glob("step_*.pt"))[: -self.config.train.keep_last]:
                old.unlink()
        barrier(self.env)

    def _load_checkpoint(self, ckpt: dict[str, Any], path: Path) -> None:
        check_same_model(ckpt, path, self.config.model.name)
        try:
            self.model.load_state_dict(ckpt["model"])
            self.objective.load_state_dict(ckpt["objective"])
            self.optimizer.load_state_dict(ckpt["optimizer"])
        except (RuntimeError, ValueError, KeyError) as exc:
            raise ConfigError(
                f"output.dir: {path} does not fit the configured model/objective ({one_line(exc)[:200]}); "
                "restore the config it was trained with or choose another output.dir"
            ) from None
        if self.ema is not None:
            if ckpt.get("ema") is None:
                raise ConfigError(f"train.ema: {path} was written without EMA weights; resume without train.ema")
            self.ema.load_state_dict(ckpt["ema"])
        self.scheduler.load_state_dict(ckpt["scheduler"])
        self.scaler.load_state_dict(ckpt["scaler"])
        rng = ckpt["rng"]
        set_rng_state(rng[self.env.rank] if len(rng) == self.env.world_size else rng[0], self.env.device)
        self.stream.load_state(ckpt["data"])
        self.step, self.elapsed, self.best = ckpt["step"], ckpt["elapsed_s"], ckpt["best"]
        self.cpu_before = ckpt.get("cpu_s", 0.0)  # checkpoints older than the field: earlier CPU unknown

    # -- export

    def _export(self, wall_time: float) -> Path | None:
        """Write the best (or last) weights, EMA ones with ``train.ema``, to ``output.export.path`` and the manifest."""
        from derain.checkpoint import file_sha256, save_weights, update_manifest

        export = self.config.output.export
        if export is None:
            return None
        model, best = self.weights_model, self.ckpt_dir / "best.pt"
        if best.exists():
            model.load_state_dict(torch.load(best, map_location=self.env.device, weights_only=True)["model"])
        path = save_weights(
            model, export.path, model_name=self.config.model.name, config=dict(self.config.model.config)
        )
        entry = {
            "file": path.name,
            "sha256": file_sha256(path),
            "model": self.config.model.name,
            "recipe": self.recipe,
            "config": config_to_dict(self.config),
            "data": {"kind": self.config.data.kind, **self.config.data.options, "items": len(self.dataset)},
            "data_licence": self.config.data.licence,
            "steps": self.step,
            "best_step": self.best["step"] if self.best else self.step,
            "val": self.best,
            "wall_time_s": round(wall_time, 1),
            "cpu_hours": round(self.cpu_seconds() / 3600, 6),
            "hardware": {**describe_hardware(self.env.device), "world_size": self.env.world_size},
            "command": self.command,
            "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        update_manifest(export.name, entry, export.manifest or path.parent / "manifest.json")
        return path
