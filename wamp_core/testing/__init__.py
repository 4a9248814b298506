"""Tools for testing and fuzzing WAMP peers and applications (need hypothesis)."""
