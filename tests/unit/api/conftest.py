"""Fixtures: a fake backend and the API app running on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from api_fakes import FakeService

from libra.api.server import create_app


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
