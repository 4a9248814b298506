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
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
