"""Time IRNN implementations: forward and backward of all four directions on a 32 x 512 x 512 map.

Candidates (all through :func:`derain.layers.irnn.four_directions`, so only the scan differs):

* ``per-pixel loop``: one Python step per pixel, vectorised over batch and channels only;
  autograd backward. Timed on a small map and extrapolated linearly in the pixel count (its cost
  is per-step overhead), because at 512 x 512 it would take minutes.
* ``row/column loop, autograd``: one step per row (or column), vectorised across the other axis;
  autograd records every step.
* ``row/column scan, hand-written backward``: the same loop with in-place steps and the linear
  backward recurrence (:func:`derain.layers.irnn.irnn_scan`, the one the package uses).
* ``chunked scan``: the maps ``h -> max(A h + P, Q)`` are closed under composition when
  ``alpha >= 0``, so each chunk of ``sqrt(S)`` steps is composed in parallel with the others, the
  chunk carries are chained, and one vectorised pass finishes; autograd backward.
* ``log-depth scan``: Hillis-Steele inclusive scan of the same maps, ``log2(S)`` full passes;
  autograd backward.

On the CPU, times are process CPU seconds (``time.process_time``, one thread, best of ``--repeats``),
so other processes on a shared machine disturb them less than wall time. With ``--device cuda`` they
are wall seconds around a synchronised pass, after one warm-up pass, and the table adds the kept
scan's largest difference from the CPU result (``irnn_speed_cuda.{json,md}``). Every candidate is checked against
the package's scan on a 64 x 64 map (``alpha`` drawn in [0.05, 0.95] so the parallel forms apply).
Writes ``benchmarks/results/irnn_speed.{json,md}``.

    PYTHONPATH=src OMP_NUM_THREADS=1 python benchmarks/irnn_speed.py [--device cuda]
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from pathlib import Path

import torch

from _results import write_results
from derain.hardware import describe_hardware
from derain.layers.irnn import four_directions, irnn_scan

RESULTS = Path(__file__).resolve().parent / "results"


def per_pixel(z: torch.Tensor, alpha: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """One step per pixel: loops over the scan axis and the other axis (last dim)."""
    columns = []
    for lane in range(z.shape[-1]):
        h = [torch.relu(z[0, ..., lane])]
        for i in range(1, z.shape[0]):
            h.append(torch.relu(alpha[..., 0] * h[-1] + bias[..., 0] + z[i, ..., lane]))
        columns.append(torch.stack(h))
    return torch.stack(columns, dim=-1)


def row_loop(z: torch.Tensor, alpha: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """One autograd-recorded step per row/column."""
    h = [torch.relu(z[0])]
    for i in range(1, z.shape[0]):
        h.append(torch.relu(alpha * h[-1] + bias + z[i]))
    return torch.stack(h)


def _compose_inputs(z: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Per-step offsets ``c_i``: ``z_i + b``, except the edge step ``h_0 = max(z_0, 0)``."""
    c = z + bias
    return torch.cat([z[:1], c[1:]])


def chunked(z: torch.Tensor, alpha: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Chunked scan of ``h -> max(alpha h + c, 0)`` maps (valid for ``alpha >= 0``)."""
    if bool((alpha < 0).any()):
        raise ValueError("chunked scan needs alpha >= 0")
    s = z.shape[0]
    k = max(1, round(math.sqrt(s)))
    n = -(-s // k)
    c = _compose_inputs(z, bias)
    c = torch.cat([c, c.new_zeros(n * k - s, *c.shape[1:])]).unflatten(0, (n, k))
    p, q = [c[:, 0]], [torch.zeros_like(c[:, 0])]  # composed maps from each chunk's start
    for j in range(1, k):
        p.append(alpha * p[-1] + c[:, j])
        q.append(torch.relu(alpha * q[-1] + c[:, j]))
    p, q = torch.stack(p, 1), torch.stack(q, 1)  # (n, k, ...)
    carry = [torch.zeros_like(c[0, 0])]  # h entering chunk 0 (no state before the edge)
    for j in range(1, n):
        carry.append(torch.maximum(alpha**k * carry[-1] + p[j - 1, -1], q[j - 1, -1]))
    powers = torch.stack([alpha ** (j + 1) for j in range(k)])  # alpha^(j+1) for step j of a chunk
    h = torch.maximum(powers * torch.stack(carry)[:, None] + p, q)
    return h.flatten(0, 1)[:s]


def log_depth(z: torch.Tensor, alpha: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Hillis-Steele scan of the maps ``(A, P, Q)``: ``h = max(A h_in + P, Q)`` (``alpha >= 0``)."""
    if bool((alpha < 0).any()):
        raise ValueError("log-depth scan needs alpha >= 0")
    s = z.shape[0]
    c = _compose_inputs(z, bias)
    a = alpha.expand_as(c).clone()
    a[0] = 0  # the edge map ignores the (absent) state before it
    p, q = c, torch.zeros_like(c)
    step = 1
    while step < s:  # compose each map with the one `step` earlier: later o earlier
        a2, p2, q2 = a[step:], p[step:], q[step:]
        a1, p1, q1 = a[:-step], p[:-step], q[:-step]
        a = torch.cat([a[:step], a2 * a1])
        p = torch.cat([p[:step], a2 * p1 + p2])
        q = torch.cat([q[:step], torch.maximum(a2 * q1 + p2, q2)])
        step *= 2
    return torch.maximum(p, q)


CANDIDATES: dict[str, Callable] = {
    "per-pixel loop": per_pixel,
    "row/column loop, autograd": row_loop,
    "row/column scan, hand-written backward (kept)": irnn_scan,
    "chunked scan (sqrt(S) chunks), autograd": chunked,
    "log-depth scan (Hillis-Steele), autograd": log_depth,
}


def _inputs(channels: int, side: int, seed: int, device: torch.device) -> tuple[torch.Tensor, ...]:
    """A map, direction weights in [0.05, 0.95] and biases, drawn on the CPU (same values on any device)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(1, channels, side, side, generator=gen)
    weight = torch.rand(4, channels, generator=gen) * 0.9 + 0.05
    bias = torch.randn(4, channels, generator=gen) * 0.1
    return tuple(t.to(device) for t in (x, weight, bias))


def _clock(device: torch.device) -> float:
    """CPU seconds on the CPU; synchronised wall seconds on a GPU (its work is asynchronous)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        return time.perf_counter()
    return time.process_time()


def time_once(scan: Callable, channels: int, side: int, seed: int, device: torch.device) -> tuple[float, float]:
    """Seconds of one forward and one backward pass."""
    x, weight, bias = (t.requires_grad_() for t in _inputs(channels, side, seed, device))
    start = _clock(device)
    out = four_directions(x, weight, bias, scan)
    mid = _clock(device)
    out.backward(torch.ones_like(out))
    return mid - start, _clock(device) - mid


def _pass(scan: Callable, inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """Output and input gradient of one pass under a fixed, non-uniform output gradient."""
    x, weight, bias = inputs
    xg = x.clone().requires_grad_()
    out = four_directions(xg, weight, bias, scan)
    out.backward(torch.sin(torch.arange(out.numel(), dtype=out.dtype, device=out.device)).view_as(out))
    return out.detach().cpu(), xg.grad.cpu()


def max_error(scan: Callable, channels: int, side: int, device: torch.device) -> float:
    """Largest difference from the package's scan, outputs and input gradients together."""
    inputs = _inputs(channels, side, 1, device)
    pairs = zip(_pass(scan, inputs), _pass(irnn_scan, inputs), strict=True)
    return max(float((a - b).abs().max()) for a, b in pairs)


def cpu_gpu_error(channels: int, side: int, device: torch.device) -> float:
    """Largest difference of the kept scan between ``device`` and the CPU (outputs and gradients)."""
    pairs = zip(
        _pass(irnn_scan, _inputs(channels, side, 1, device)),
        _pass(irnn_scan, _inputs(channels, side, 1, torch.device("cpu"))),
        strict=True,
    )
    return max(float((a - b).abs().max()) for a, b in pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--side", type=int, default=512)
    parser.add_argument("--pixel-side", type=int, default=32, help="map side for the per-pixel loop")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    args = parser.parse_args()
    torch.set_num_threads(1)
    device = torch.device(args.device)
    rows = []
    for name, scan in CANDIDATES.items():
        side = args.pixel_side if scan is per_pixel else args.side
        if device.type == "cuda":
            time_once(scan, args.channels, side, 0, device)  # warm-up: kernel loading and the allocator
        runs = [time_once(scan, args.channels, side, seed, device) for seed in range(args.repeats)]
        scale = (args.side / side) ** 2
        fwd, bwd = min(r[0] for r in runs) * scale, min(r[1] for r in runs) * scale
        error = max_error(scan, args.channels, 16 if scan is per_pixel else 64, device)
        rows.append({"name": name, "measured_side": side, "forward_s": fwd, "backward_s": bwd, "max_error": error})
        print(f"{name}: forward {fwd:.3f} s, backward {bwd:.3f} s (measured at {side} px), max error {error:.1e}")
    env = describe_hardware(device)
    result = {"channels": args.channels, "side": args.side, "repeats": args.repeats, "environment": env, "rows": rows}
    if device.type == "cuda":
        result["cpu_gpu_max_error"] = cpu_gpu_error(args.channels, 64, device)
    stem = "irnn_speed" if device.type == "cpu" else "irnn_speed_cuda"
    write_results(RESULTS, stem, result, markdown(result))


def markdown(result: dict) -> str:
    """The table for the docs."""
    env = result["environment"]
    on_gpu = env.get("gpu") is not None
    where = f"{env['gpu']} (CPU {env['cpu']})" if on_gpu else f"CPU {env['cpu']}"
    clock = "Synchronised wall seconds after a warm-up" if on_gpu else "Process CPU seconds, one thread"
    lines = [
        f"# IRNN speed: four directions, 1 x {result['channels']} x {result['side']} x {result['side']}, {where}",
        "",
        f"{clock}, best of {result['repeats']} (torch {env['torch']}).",
        "Per-pixel loop: measured on a smaller map and scaled by the pixel ratio. Max error: against the",
        "kept scan (outputs and input gradients, 64 x 64 map; 16 x 16 for the per-pixel loop).",
        "Regenerate: `PYTHONPATH=src OMP_NUM_THREADS=1 python benchmarks/irnn_speed.py"
        + (" --device cuda`." if on_gpu else "`."),
        "",
        "| implementation | forward s | backward s | total s | measured at | max error |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        total = r["forward_s"] + r["backward_s"]
        side = f"{r['measured_side']} px" + (" (scaled)" if r["measured_side"] != result["side"] else "")
        times = f"{r['forward_s']:.3f} | {r['backward_s']:.3f} | {total:.3f}"
        lines.append(f"| {r['name']} | {times} | {side} | {r['max_error']:.1e} |")
    if "cpu_gpu_max_error" in result:
        lines += ["", f"Kept scan, GPU against CPU (64 x 64 map): max difference {result['cpu_gpu_max_error']:.1e}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
