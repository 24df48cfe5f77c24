#!/usr/bin/env bash
# The GPU table of the README in one run on a CUDA machine with nothing of ours installed
# (the device tool's lent H100/H200): installs the carried wheels (.whl/: diffusers and
# importlib_metadata; torch and transformers come with that machine), then times SD 1.5's
# architecture at 512², 50 steps, fp16: SDPA, + channels_last, + torch.compile, + fused QKV,
# bare diffusers vs ours (previews + recording every step), and Cancel's latency.
set -o pipefail
out=${OUT:-/tmp/gpu-out}
mkdir -p "$out"
if [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site || exit 1
fi
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 DIFFUSION_PLAYGROUND_THREADS=${DIFFUSION_PLAYGROUND_THREADS:-8}
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee "$out/gpu.txt"
python3 -c "import torch, transformers, diffusers; print(torch.__version__, transformers.__version__, diffusers.__version__)"
python3 tests/benchmarks/bench_sd_cpu.py --device cuda --dtype float16 --size 512 --steps 50 \
    --pairs 5 --compile --model-dir /tmp/sd15 "$@" 2>&1 | grep -v -i "warn" | tee "$out/gpu-table.md"
