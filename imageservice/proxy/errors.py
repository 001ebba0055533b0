"""The one error type of the proxy, answered to the browser in the ArcGIS error envelope.

The browser-side clients (esri-leaflet, imageservice) already read `{"error": {...}}` bodies, so a
refusal or an upstream failure reaches the user through the same path as a server's own error.
"""

from __future__ import annotations

REFUSED = "The proxy refused this request."
TOO_SLOW = "The server took too long to answer."


class ProxyError(Exception):
    """A request the proxy will not or could not complete; `status` is the HTTP status sent back."""

    def __init__(self, status: int, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = list(details or [])

    def envelope(self) -> dict:
        return {"error": {"code": self.status, "message": self.message, "details": self.details}}


class Refused(ProxyError):
    """403: the target is not on the allow-list, or is disguised; `reason` says which rule."""

    def __init__(self, reason: str) -> None:
        super().__init__(403, REFUSED, [reason])
