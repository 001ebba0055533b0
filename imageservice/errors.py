"""One exception family for everything that can go wrong talking to an ImageServer.

Transport failures, server-reported errors and unusable responses are kept apart so callers
can tell "the server said no" from "there was no answer" without parsing messages.
"""

from __future__ import annotations


class ImageServiceError(Exception):
    """Base of every error raised by imageservice."""

    code: int = 500  # esri-leaflet's code for errors the server did not number (no answer, not JSON)


class ParameterError(ImageServiceError, ValueError):
    """Bad user input; the message names the parameter and what is allowed."""


class ArcGISError(ImageServiceError):
    """The server answered with an ArcGIS error envelope {"error": {code, message, details}}."""

    def __init__(self, code: int, message: str, details: list[str] | None = None, url: str | None = None,
                 extended_code: int | None = None) -> None:
        self.code = code
        self.message = message
        self.details = list(details or [])
        self.url = url
        self.extended_code = extended_code  # ArcGIS's finer cause (e.g. -2147467259), when sent
        super().__init__(code, message, self.details, url)

    def __str__(self) -> str:
        text = f"{self.message} (code {self.code})"
        return f"{text}: {'; '.join(self.details)}" if self.details else text


class AuthenticationRequired(ArcGISError):
    """Code 499 (token required) or 498 (invalid or expired token)."""


class ServiceUnreachable(ImageServiceError):
    """No connection: refused, DNS failure, network down."""


class ServiceTimeout(ImageServiceError):
    """The server did not answer within the client's timeout."""


class InvalidResponse(ImageServiceError):
    """An answer that is not a usable ArcGIS response: not JSON, an HTTP error page, not an ImageServer."""


class FetchRefused(ImageServiceError):
    """The server's fetch policy does not allow this URL (see imageservice.fetchpolicy); nothing was sent."""
