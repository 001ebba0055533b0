"""ArcGIS-shaped errors: every failure the server reports becomes one of these.

The HTTP layer turns them into `{"error": {"code", "message", "details"}}` bodies with status 200,
as ArcGIS Server does, so clients can rely on one error path.
"""

from __future__ import annotations

INVALID_PARAMETERS = "Invalid or missing input parameters."
UNABLE_TO_COMPLETE = "Unable to complete operation."


class ArcGISError(Exception):
    """An error reported to the client in the ArcGIS error envelope."""

    def __init__(self, code: int, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = list(details or [])

    def envelope(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadParameter(ArcGISError):
    """400 "Invalid or missing input parameters." with one detail naming the problem."""

    def __init__(self, detail: str) -> None:
        super().__init__(400, INVALID_PARAMETERS, [detail])


class UnableToComplete(ArcGISError):
    """400 "Unable to complete operation." (bad where clause, unknown resource, ...)."""

    def __init__(self, detail: str) -> None:
        super().__init__(400, UNABLE_TO_COMPLETE, [detail])


class NotFound(ArcGISError):
    """Unknown service, operation or resource (404), with a detail naming what was asked for."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(404, message, [detail] if detail else [])


class TokenRequired(ArcGISError):
    def __init__(self) -> None:
        super().__init__(499, "Token Required")


class InvalidToken(ArcGISError):
    def __init__(self) -> None:
        super().__init__(498, "Invalid Token")
