"""Process-wide start-up: nothing may reach a model hub or send telemetry."""

from __future__ import annotations

import os

OFFLINE_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",  # Chroma reads this too; clients also pass it explicitly
    "TOKENIZERS_PARALLELISM": "false",
}


def go_offline() -> None:
    """Set the offline and no-telemetry variables before any ML library is imported."""
    for key, value in OFFLINE_ENVIRONMENT.items():
        os.environ[key] = value
