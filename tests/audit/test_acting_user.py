import pytest
from django.contrib.auth.models import Group
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from apps.accounts import roles
from apps.accounts.middleware import ActingUserMiddleware
from apps.accounts.models import User
from apps.audit.models import EventRecord


@pytest.mark.django_db
def test_a_role_change_made_in_a_request_is_attributed_to_its_user(
    trader: User, risk_manager: User
) -> None:
    def promote(request: HttpRequest) -> HttpResponse:
        trader.groups.add(Group.objects.get(name=roles.RISK_MANAGER))
        return HttpResponse()

    request = RequestFactory().post("/admin/")
    request.user = risk_manager
    ActingUserMiddleware(promote)(request)
    change = EventRecord.objects.filter(kind="role.changed").order_by("-seq").first()
    assert change is not None
    assert change.actor_user_id == risk_manager.pk
