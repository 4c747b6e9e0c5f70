"""The REST API (FastAPI) that serves the web widget, with the Gradio screens mounted on it."""
