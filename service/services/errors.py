"""Refusals the API turns into HTTP answers; each carries a stable code and a sentence."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.headers = headers or {}


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class Invalid(ServiceError):
    status = 422
    code = "invalid"


class TooLarge(ServiceError):
    status = 413
    code = "too_large"


class TooSoon(ServiceError):
    status = 429
    code = "interval_too_short"


class StorageFull(ServiceError):
    """The disk holding submissions is full: nothing was kept, the student may try again."""

    status = 507
    code = "storage_full"


class Busy(ServiceError):
    """Too much is being done at once: nothing was kept, the same request may be sent later."""

    status = 503
    code = "busy"
