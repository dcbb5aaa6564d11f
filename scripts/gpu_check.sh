#!/usr/bin/env bash
# GPU check for dlzoo, one prepared script (steps 1-3: < 8 minutes on one H100-class GPU):
#   1. prints the device (nvidia-smi and what TensorFlow sees);
#   2. trains ResNet-50 on synthetic data with zoo.train.fit, in float32 on one device and
#      with mixed precision + XLA, and prints images/s for each and the ratio against
#      keras.applications ResNet50 under model.fit (scripts/bench_fit.py);
#   3. runs the tests marked `gpu`;
#   4. the longer run: DQN with policy="cnn" on ALE/Pong-v5 for ATARI_STEPS (default 1M; about
#      30-60 minutes) through gymnasium's AtariPreprocessing + FrameStackObservation, printing a line
#      per 10k steps and the greedy return (scripts/train_atari.py). ATARI_STEPS=0 skips it.
# Without a GPU it says so and exits 0 (nothing to check).
#
#   scripts/gpu_check.sh                 # results also in runs/gpu_check/
#   PRECISION=bfloat16 scripts/gpu_check.sh
#   ATARI_STEPS=0 scripts/gpu_check.sh   # steps 1-3 only; ATARI_ENV=ALE/Breakout-v5 for another game
set -uo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=$(command -v python3)
OUT=${OUT:-runs/gpu_check}
PRECISION=${PRECISION:-float16}
ATARI_STEPS=${ATARI_STEPS:-1000000}
ATARI_ENV=${ATARI_ENV:-ALE/Pong-v5}
ATARI_TIMEOUT=${ATARI_TIMEOUT:-5400}
# tests/conftest.py hides GPUs unless CUDA_VISIBLE_DEVICES is set: name the first one.
export CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-0}
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
mkdir -p "$OUT"
start=$(date +%s)

echo "== device"
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
else
    echo "nvidia-smi: not found"
fi
if ! timeout 120 "$PY" - <<'EOF'
import sys
import tensorflow as tf
gpus = tf.config.list_physical_devices("GPU")
print(f"TensorFlow {tf.__version__}, built with CUDA: {tf.test.is_built_with_cuda()}, GPUs: {[g.name for g in gpus]}")
for g in gpus:
    print("  ", tf.config.experimental.get_device_details(g))
sys.exit(0 if gpus else 3)
EOF
then
    echo "no GPU visible to TensorFlow: skipping the GPU benchmark and the gpu tests"
    exit 0
fi

echo "== ResNet-50 on synthetic data: zoo.train.fit vs keras.applications ResNet50 under model.fit"
timeout 330 "$PY" scripts/bench_fit.py --precision "$PRECISION" --out "$OUT"
bench=$?
[ $bench -eq 124 ] && echo "benchmark: timed out after 330 s"

echo "== tests marked gpu"
timeout 110 "$PY" -m pytest -q -p no:cacheprovider -m gpu tests
tests=$?

atari=0
if [ "$ATARI_STEPS" -gt 0 ]; then
    echo "== DQN policy='cnn' on $ATARI_ENV for $ATARI_STEPS steps (scripts/train_atari.py)"
    timeout "$ATARI_TIMEOUT" "$PY" scripts/train_atari.py --env "$ATARI_ENV" --steps "$ATARI_STEPS" \
        | tee "$OUT/atari_dqn.txt"
    atari=${PIPESTATUS[0]}
    [ $atari -eq 124 ] && echo "atari run: timed out after $ATARI_TIMEOUT s"
fi

echo "== done in $(( $(date +%s) - start )) s: benchmark exit $bench, gpu tests exit $tests, atari run exit $atari"
[ $bench -eq 0 ] && [ $tests -eq 0 ] && [ $atari -eq 0 ]
