"""Errors the service answers with a 4xx status and a plain message."""

from __future__ import annotations

from http import HTTPStatus

from bentoml.exceptions import BentoMLException


class ApiError(BentoMLException):
    """A request the service refuses: ``status`` (4xx) and a message saying what to fix."""

    def __init__(self, status: int, message: str, **detail: object) -> None:
        super().__init__(message, error_code=HTTPStatus(status))
        self.status = int(status)
        self.message = message
        self.detail = detail

    def body(self) -> dict[str, object]:
        return {"error": self.message, **({"detail": self.detail} if self.detail else {})}


def bad_request(message: str, **detail: object) -> ApiError:
    return ApiError(400, message, **detail)


def unauthorized(message: str = "missing or invalid API key: send it as 'Authorization: "
                 "Bearer <key>' or 'X-API-Key: <key>'") -> ApiError:
    return ApiError(401, message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def too_large(message: str) -> ApiError:
    return ApiError(413, message)
