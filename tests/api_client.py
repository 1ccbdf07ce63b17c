"""A signed-in (session) test client that speaks JSON under an API prefix."""

from __future__ import annotations

from django.test import Client


class Api:
    prefix = "/api/v1"

    def __init__(self, client: Client, prefix: str | None = None):
        self.client = client
        if prefix is not None:
            self.prefix = prefix

    def get(self, path: str, params: dict | None = None):
        return self.client.get(self.prefix + path, params or {})

    def post(self, path: str, data: dict | None = None):
        return self.client.post(self.prefix + path, data or {}, content_type="application/json")

    def patch(self, path: str, data: dict | None = None):
        return self.client.patch(self.prefix + path, data or {}, content_type="application/json")

    def delete(self, path: str):
        return self.client.delete(self.prefix + path)
