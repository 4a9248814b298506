"""Shared test set-up: hypothesis profiles and the path of the external vectors."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings

# The conformance vectors are external data kept beside the checkout (../shared).
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
VECTORS = SHARED / "vectors"

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "dev")
settings.load_profile(PROFILE)

# The session state machine explores far more in CI (the issue asks for >= 2,000 runs).
MACHINE_EXAMPLES = 2000 if PROFILE == "ci" else 200
