"""Fixtures: a fake backend and the API app running on 127.0.0.1."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from libra.api.server import create_app

# pytest runs with --import-mode=importlib, which puts no test folder on sys.path; the
# test modules here share one helper module, api_fakes.py, so put this folder there.
sys.path.insert(0, str(Path(__file__).parent))

from api_fakes import FakeService  # noqa: E402


@pytest.fixture
def service() -> FakeService:
    return FakeService()


@pytest.fixture
def app_options() -> dict[str, Any]:
    """Overridden by tests that need other limits."""
    return {"max_body_bytes": 8192}


@pytest.fixture
async def client(service: FakeService, app_options: dict[str, Any]) -> AsyncIterator[TestClient]:
    app = create_app(service, **app_options)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client
