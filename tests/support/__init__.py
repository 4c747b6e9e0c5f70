"""What the unit and the integration suites share: fakes, the API runtime and the screens on
loopback, the small retrieval store. The fixtures among them are made visible to both suites
by tests/conftest.py, the nearest conftest that both suites read."""
