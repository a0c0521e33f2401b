#!/bin/bash
# The device run of issue #9's ablation (docs/methods/memory.md) plus issue #11's IRNN checks on a GPU.
# Here, once: python scripts/device/pack_data.py --max-side 480 --quality 80, drop .gpu/rain_streaks
# (the transfer limit), copy four paired dev sets into .gpu/bench; then, from the repository root:
#   run(command="bash scripts/device/memory_ablation.sh", carry=[".gpu"], timeout_s=300)
export PYTHONPATH=$PWD/src:$PWD/scripts/device PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
nvidia-smi --query-gpu=name --format=csv,noheader
(
  python3 -m pytest -q -p no:cacheprovider -rs tests/layers/test_irnn.py tests/models/test_spanet.py
  python3 benchmarks/irnn_speed.py --device cuda && cp benchmarks/results/irnn_speed_cuda.* "$OUT"/
) > "$OUT/irnn.log" 2>&1 &
python3 benchmarks/memory_ablation.py --steps 1200 --seeds 0 1 --jobs 6 --runs /tmp/abl --out "$OUT/ablation" \
  --val none --bench-root .gpu/bench --cost-size 64 --set val=null --set data.options.clean_dir=.gpu/clean \
  --set 'data.options.exclude=[]' --set train.num_workers=2 2>&1 | grep -v 'step/s'
for f in /tmp/abl/*/log.jsonl; do echo "$f"; tail -1 "$f" | cut -c1-400; done
weights=()
for v in memory_bsw memory_no_bsw; do for s in 0 1; do weights+=("${v}_s$s=/tmp/abl/${v}_s$s/memory.safetensors"); done; done
python3 benchmarks/memory_items.py --weights "${weights[@]}" --out "$OUT/items.md" \
  --images .gpu/bench/spa_real2/rain/0438.png .gpu/bench/rain100h_trainsub18/rain/"$(ls .gpu/bench/rain100h_trainsub18/rain | head -1)"
wait
cat "$OUT/irnn.log"
