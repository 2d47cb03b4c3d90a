from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apps.audit.services import acting_user


class ActingUserMiddleware:
    """Attribute what a request changes (roles, entitlements, holds) to the user who made it,
    in the web-side audit events those changes record."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        with acting_user(user_id):
            return self.get_response(request)
