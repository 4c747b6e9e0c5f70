"""The ground floor: types and errors every package shares, importing nothing above it."""
