"""The roles and features this client announces in HELLO (PROTOCOL.md section 5)."""

from __future__ import annotations

from typing import Any

_RPC = {
    "progressive_call_results": True,
    "progressive_call_invocations": True,
    "call_timeout": True,
    "call_canceling": True,
    "caller_identification": True,
    "payload_passthru_mode": True,
}

CLIENT_ROLES: dict[str, Any] = {
    "caller": {"features": dict(_RPC)},
    "callee": {
        "features": {
            **_RPC,
            "pattern_based_registration": True,
            "shared_registration": True,
            "registration_revocation": True,
        }
    },
    "publisher": {
        "features": {
            "publisher_identification": True,
            "subscriber_blackwhite_listing": True,
            "publisher_exclusion": True,
            "payload_passthru_mode": True,
        }
    },
    "subscriber": {
        "features": {
            "publisher_identification": True,
            "pattern_based_subscription": True,
            "subscription_revocation": True,
            "payload_passthru_mode": True,
        }
    },
}
