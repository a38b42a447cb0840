"""The standards tests run on the service tests' databases: SQLite by default, PostgreSQL with
DEELWIJS_TEST_DATABASE_URL (every fixture of tests/services/conftest.py, imported whole so that
a fixture added there is here too)."""

from tests.services.conftest import *  # noqa: F403
