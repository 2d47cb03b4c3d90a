"""Every API error has the same body: a machine-readable code and a sentence.

A service refuses a request by raising a `Rejection` (or a subclass naming its domain); the
handler below turns it, and DRF's own errors, into that body.
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ErrorSerializer(serializers.Serializer[None]):
    """The error body, for the API schema."""

    code = serializers.CharField()
    message = serializers.CharField()


class Rejection(Exception):
    """A request refused as given; nothing changed. `code` is stable, `message` a sentence."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.ParseError: "malformed_request",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for name, value in detail.items():
            text = _first_message(value)
            return text if name == "non_field_errors" else f"{name}: {text}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Rejection):
        return Response({"code": exc.code, "message": exc.message}, status=exc.status)
    # DRF turns Django's own 404 and 403 into its exceptions; do it first so they map alike.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "code": "invalid_request",
            "message": _first_message(exc.detail).rstrip(".") + ".",
            "fields": exc.detail,
        }
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    code = next((c for cls, c in _CODES.items() if isinstance(exc, cls)), "error")
    detail = getattr(exc, "detail", str(exc))
    response.data = {"code": code, "message": _first_message(detail)}
    return response
