"""How to run php fastest on a CPU: eager PyTorch against channels-last, frozen TorchScript and ONNX Runtime.

All candidates run the same randomly initialised php on one 512x512 image in this process,
interleaved (so a changing machine load hits them alike), ``--runs`` times each after a warm-up;
outputs are checked against eager PyTorch. Also prints the operator profile of the eager model.
Writes ``benchmarks/results/php_backends.{json,md}``.

    python benchmarks/php_backends.py --threads 1
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from _results import write_results
from derain.models import build_model

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


class _Background(torch.nn.Module):
    """The model's ``background`` output alone (tracing and ONNX want plain tensors)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x).background


def candidates(threads: int, x: torch.Tensor) -> dict[str, Callable[[], torch.Tensor]]:
    """Name -> zero-argument callable producing the background of ``x``."""
    import onnxruntime as ort

    torch.manual_seed(0)
    eager = _Background(build_model("php")).eval()
    for p in eager.parameters():  # non-zero heads, so outputs can be compared meaningfully
        torch.nn.init.normal_(p, std=0.05)
    last = _Background(build_model("php")).eval()
    last.load_state_dict(eager.state_dict())
    last = last.to(memory_format=torch.channels_last)
    x_last = x.contiguous(memory_format=torch.channels_last)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        frozen = torch.jit.freeze(torch.jit.trace(eager, x))
        frozen_last = torch.jit.freeze(torch.jit.trace(last, x_last))
        buf = io.BytesIO()
        torch.onnx.export(eager, (x,), buf, dynamo=False, opset_version=17)
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = ort.InferenceSession(buf.getvalue(), options, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: x.numpy()}
    return {
        "eager": lambda: eager(x),
        "channels_last": lambda: last(x_last),
        "torchscript_frozen": lambda: frozen(x),
        "torchscript_frozen_channels_last": lambda: frozen_last(x_last),
        "onnxruntime": lambda: torch.from_numpy(session.run(None, feed)[0]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x = torch.rand(1, 3, 512, 512)
    runners = candidates(args.threads, x)
    times: dict[str, list[float]] = {name: [] for name in runners}
    load_before = os.getloadavg()[0]
    with torch.inference_mode():
        reference = runners["eager"]()
        diffs = {name: float((run() - reference).abs().max()) for name, run in runners.items()}
        for _ in range(args.runs):
            for name, run in runners.items():
                start = time.perf_counter()
                run()
                times[name].append((time.perf_counter() - start) * 1e3)
        with torch.profiler.profile() as prof:
            runners["eager"]()
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=8)
    print(table)
    rows = [{"backend": n, "median_ms": statistics.median(t), "max_abs_diff": diffs[n]} for n, t in times.items()]
    result = {"threads": args.threads, "runs": args.runs, "load_before": load_before, "rows": rows}
    result["load_after"] = os.getloadavg()[0]
    base = rows[0]["median_ms"]
    lines = [
        "# php on CPU: execution backends",
        "",
        f"One 512x512 image, {args.threads} thread(s), median of {args.runs} interleaved runs after a warm-up; "
        f"load average {result['load_before']:.1f} / {result['load_after']:.1f} before / after (shared machine: "
        "compare rows with each other, not with an idle machine).",
        "",
        "| backend | ms | vs eager | max abs diff |",
        "|---|---|---|---|",
        *(
            f"| {r['backend']} | {r['median_ms']:.0f} | {r['median_ms'] / base:.2f} | {r['max_abs_diff']:.1e} |"
            for r in rows
        ),
        "",
        "Eager operator profile (one pass):",
        "",
        "```",
        table,
        "```",
    ]
    write_results(RESULTS, "php_backends", result, "\n".join(lines))


if __name__ == "__main__":
    main()
