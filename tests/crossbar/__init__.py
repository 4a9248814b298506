"""The Crossbar.io node the integration tests run against (see ``config.py``)."""
