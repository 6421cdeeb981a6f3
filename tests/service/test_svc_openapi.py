"""The API's own document tells a new user what every operation does."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_every_operation_has_a_description(client: TestClient) -> None:
    doc = client.app.openapi()  # type: ignore[attr-defined]
    missing = [f"{method.upper()} {path}" for path, ops in doc["paths"].items()
               for method, op in ops.items() if not op.get("description", "").strip()]
    assert missing == []
