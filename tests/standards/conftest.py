"""The standards tests run on the service tests' databases: SQLite by default, PostgreSQL with
DEELWIJS_TEST_DATABASE_URL (the same fixtures, imported from tests/services/conftest.py)."""

from tests.services.conftest import (  # noqa: F401
    app,
    build,
    database_url,
    master_key,
    postgres_url,
    settings,
    sqlite_template,
    world,
)
