#!/bin/bash
# A device leg (docs/methods/fastnet.md, "GPU legs"): fastnet recipes side by side on one GPU.
# Here, once: python scripts/device/pack_data.py; then the device call, from the repository root:
#   run(command="BUDGET=480 bash scripts/device/run.sh C D", carry=[".gpu"], timeout_s=540)
# trains scripts/device/fastnet_C.yaml and fastnet_D.yaml (legs A and B of the first lease: run.sh A B).
# The device image has no PyAV; training on images never opens a video, so scripts/device/av
# stands in for it on the path there.
# Tried on the CPU first with CALIBRATE=40 WORKDIR=/tmp/gputest EXTRA='--set train.device=cpu --set data.options.crop=64 ...'
# (EXTRA: space-separated --set flags passed to every run).
export PYTHONPATH=$PWD/src:$PWD/scripts/device PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
nvidia-smi --query-gpu=name,memory.total --format=csv
python3 -c "import torch, numpy, cv2; print(torch.__version__, numpy.__version__, cv2.__version__)"
names=("$@"); [ ${#names[@]} -eq 0 ] && names=(A B)
runs=()
for name in "${names[@]}"; do runs+=("$name=scripts/device/fastnet_$name.yaml"); done
python3 scripts/device/legs.py --budget "${BUDGET:-480}" --calibrate "${CALIBRATE:-60}" --reserve 40 --out "$OUT" \
  --workdir "${WORKDIR:-/tmp/gpu}" "${runs[@]}" -- --set train.keep_last=100 ${EXTRA:-} 2>&1
