"""Fixtures shared by every test folder: the PostgreSQL server of the session.

See ``tests/postgres_server.py``: ``postgres_server`` (session) and ``postgres_url`` (a
fresh database per test). Tests that use them get the ``postgres`` marker, so
``pytest -m "not postgres"`` leaves them out.
"""

from __future__ import annotations

import pytest

from tests.postgres_server import mark_postgres_tests, postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_postgres_tests(items)
