"""HTTP to the Symphony API with a token: answers as JSON, refusals as `ApiError` carrying the
API's error code (`{"error": {"code", "message", "details"}}`, docs/api.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from symphony_cli import __version__
from symphony_cli.config import Credentials

API = "/api/v1"
TIMEOUT_S = 30.0


class ApiError(Exception):
    """The server answered with an error."""

    def __init__(self, status: int, code: str, message: str, details: list[Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []


class CannotConnect(Exception):
    pass


def error_of(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
        error = body["error"]
        return ApiError(response.status_code, str(error["code"]), str(error["message"]),
                        error.get("details") if isinstance(error.get("details"), list) else [])
    except (ValueError, KeyError, TypeError):
        return ApiError(response.status_code, f"http_{response.status_code}",
                        f"the server answered HTTP {response.status_code} without an error in the API's shape")


class Client:
    def __init__(self, credentials: Credentials, *, timeout: float = TIMEOUT_S) -> None:
        self.credentials = credentials
        self.http = httpx.Client(
            base_url=credentials.url, timeout=timeout,
            headers={"Authorization": f"Token {credentials.token}", "Accept": "application/json",
                     "User-Agent": f"symphony-cli/{__version__}"})

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, *, params: Any = None, json: Any = None,
                content: bytes | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
        try:
            response = self.http.request(method, f"{API}{path}", params=params, json=json, content=content,
                                         headers=headers)
        except httpx.TransportError as error:
            raise CannotConnect(f"cannot reach {self.credentials.url}: {error}") from None
        if response.status_code >= 400:
            raise error_of(response)
        return response

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=_params(params)).json()

    def post(self, path: str, body: Any = None, **params: Any) -> Any:
        return self.request("POST", path, params=_params(params), json=body if body is not None else {}).json()

    @contextmanager
    def stream(self, path: str, **params: Any) -> Iterator[httpx.Response]:
        """A response read in chunks (exports); refusals raise before the body is read."""
        try:
            with self.http.stream("GET", f"{API}{path}", params=_params(params)) as response:
                if response.status_code >= 400:
                    response.read()
                    raise error_of(response)
                yield response
        except httpx.TransportError as error:
            raise CannotConnect(f"cannot reach {self.credentials.url}: {error}") from None

    def pages(self, path: str, *, limit: int | None = None, **params: Any) -> Iterator[dict[str, Any]]:
        """Every row of a keyset-paginated list (`{results, next}`), up to `limit` rows."""
        cursor = None
        taken = 0
        while True:
            page_size = 200 if limit is None else min(200, limit - taken)
            page = self.get(path, limit=page_size, cursor=cursor, **params)
            for row in page["results"]:
                yield row
                taken += 1
                if limit is not None and taken >= limit:
                    return
            cursor = page.get("next")
            if not cursor:
                return


def _params(params: dict[str, Any]) -> dict[str, Any]:
    """Leave out options not given; lists become repeated parameters."""
    return {key: value for key, value in params.items() if value not in (None, "", [], ())}
