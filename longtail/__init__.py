"""longtail's command line, the top floor: `longtail` and `python -m longtail`."""
