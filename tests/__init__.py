"""Tests. Run before any test module imports torch or numpy."""

import os

# `make test-unit` runs two pytest-xdist workers on two cores: one compute thread each (and
# for the commands a test starts), or training threads oversubscribe the cores (the unit
# suite took 5m13s instead of 2m39s when the intent encoder began to train on every core).
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")
