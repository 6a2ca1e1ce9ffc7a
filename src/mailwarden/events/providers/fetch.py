"""The production HttpFetcher: a bounded, timed-out HTTPS GET."""

from __future__ import annotations

import httpx

_MAX_BYTES = 256 * 1024


class HttpsFetcher:
    """Fetches small documents (certificates, confirmation URLs) over https only."""

    def __init__(self, timeout: float = 10.0) -> None:
        self._timeout = timeout

    def get(self, url: str) -> bytes:
        """Return the body of url; raise OSError for any failure."""
        if not url.startswith("https://"):
            raise OSError(f"refusing to fetch a non-https URL: {url}")
        try:
            with (
                httpx.Client(timeout=self._timeout, follow_redirects=False) as client,
                client.stream("GET", url) as response,
            ):
                response.raise_for_status()
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > _MAX_BYTES:
                        raise OSError(f"response from {url} is larger than {_MAX_BYTES} bytes")
                return body
        except httpx.HTTPError as exc:
            raise OSError(f"GET {url} failed: {exc}") from None
