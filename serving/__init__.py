"""LLM serving: packaged models, the embedded llama.cpp server, vLLM launch files, and the one
OpenAI-compatible client configuration that everything uses."""
