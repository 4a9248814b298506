"""The roles and features the router announces in WELCOME: only what it implements."""

from __future__ import annotations

from typing import Any, Final

__all__ = ["ROUTER_ROLES"]

ROUTER_ROLES: Final[dict[str, Any]] = {
    "broker": {
        "features": {
            "pattern_based_subscription": True,
            "publisher_exclusion": True,
            "publisher_identification": True,
            "subscriber_blackwhite_listing": True,
            "event_retention": True,
            "subscription_revocation": True,
            "subscription_meta_api": True,
            "session_meta_api": True,
            "payload_passthru_mode": True,
        }
    },
    "dealer": {
        "features": {
            "pattern_based_registration": True,
            "shared_registration": True,
            "caller_identification": True,
            "progressive_call_results": True,
            "progressive_call_invocations": True,
            "call_canceling": True,
            "call_timeout": True,
            "registration_revocation": True,
            "registration_meta_api": True,
            "session_meta_api": True,
            "testament_meta_api": True,
            "payload_passthru_mode": True,
        }
    },
}
