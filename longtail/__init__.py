"""longtail: a conversational shopping assistant that finds the right lesser-known products."""

__version__ = "0.1.0"
