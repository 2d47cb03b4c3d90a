"""What the control APIs (apps.risk's limits and kill switches, apps.breakers' settings and
halts) share: strict request bodies, the reason every change carries, the signed-in user, and
the error shapes their schema documents."""

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request

from apps.accounts.models import User
from project.api_errors import ErrorSerializer

READ_ERRORS = {401: ErrorSerializer, 403: ErrorSerializer}
WRITE_ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
    503: ErrorSerializer,
    504: ErrorSerializer,
}


def reason_field() -> serializers.CharField:
    # Not required here so that a missing and a blank reason get the same answer from the
    # service (apps.trading.control.control_reason): 400 reason_required.
    return serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="Why (required, at most 200 characters); journaled with the change.",
    )


class StrictSerializer(serializers.Serializer[None]):
    """Refuses fields it does not know, so that a misspelt field is an error, not a no-op."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if isinstance(self.initial_data, dict):
            unknown = sorted(set(self.initial_data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {unknown[0]: f"Unknown field; expected one of {', '.join(self.fields)}."}
                )
        return attrs


def request_user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # IsAuthenticated ran first
    return user


def validated_body(serializer_class: type[StrictSerializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
