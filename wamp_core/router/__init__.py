"""The Sans-IO WAMP router."""

from __future__ import annotations
