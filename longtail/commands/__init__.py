"""CLI subcommands, one module per capability; `longtail.cli` mounts them."""
