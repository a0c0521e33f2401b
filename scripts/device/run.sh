#!/bin/bash
# The device leg (docs/methods/fastnet.md, "GPU leg"): two fastnet recipes side by side on one GPU.
# Here, once: python scripts/device/pack_data.py; then the device call, from the repository root:
#   run(command="BUDGET=480 bash scripts/device/run.sh", carry=[".gpu"], timeout_s=540)
# The device image has no PyAV; training on images never opens a video, so scripts/device/av
# stands in for it on the path there.
export PYTHONPATH=$PWD/src:$PWD/scripts/device PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
nvidia-smi --query-gpu=name,memory.total --format=csv
python3 -c "import torch, numpy, cv2; print(torch.__version__, numpy.__version__, cv2.__version__)"
python3 scripts/device/legs.py --budget "${BUDGET:-480}" --calibrate 60 --reserve 40 --out "$OUT" --workdir /tmp/gpu \
  A=scripts/device/fastnet_A.yaml B=scripts/device/fastnet_B.yaml -- --set train.keep_last=100 2>&1
