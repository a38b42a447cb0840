"""The service-level fixtures (databases, `app`, `world`, `build`) of tests/services/conftest.py."""

from tests.services.conftest import *  # noqa: F403
