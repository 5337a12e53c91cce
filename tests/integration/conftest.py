"""Fixtures for tests that run the provider against the sandbox over real HTTP: see tests/conftest.py."""
