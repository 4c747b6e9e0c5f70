"""Convert a GGUF file to a transformers folder that vLLM 0.32 can load (it cannot read GGUF).

Run with the vLLM venv's python (it has transformers, torch and gguf):

    python convert_gguf.py MODEL.gguf OUT_DIR

transformers dequantizes the GGUF weights; the config keeps a marker that the weights came
from a GGUF quantizer, which vLLM would then try to honour, so it is removed before saving.
Nothing is downloaded: the tokenizer and its chat template come from the GGUF file itself.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def convert(gguf: Path, out: Path, dtype: str = "bfloat16") -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    # float32 gives plain dequantized Linear weights (other dtypes keep them packed).
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    # Clear the GGUF quantizer marker: the weights are dequantized now, and a marker left
    # behind makes save_pretrained refuse and vLLM look for a GGUF quantizer.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model = model.to(getattr(torch, dtype))
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    config_path = out / "config.json"
    config = json.loads(config_path.read_text())
    config.pop("quantization_config", None)
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    if not getattr(tokenizer, "chat_template", None):
        raise SystemExit(f"{gguf} carries no chat template; vLLM needs one for chat")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python convert_gguf.py MODEL.gguf OUT_DIR")
    convert(Path(sys.argv[1]), Path(sys.argv[2]))
