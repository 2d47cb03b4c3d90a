"""Who is asking: the caller's roles and the accounts they may trade."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.accounts.services import accounts_tradeable_by


class MeSerializer(serializers.Serializer[None]):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    accounts = serializers.ListField(child=serializers.CharField())


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        user = request.user
        assert isinstance(user, User)  # IsAuthenticated ran first
        return Response(
            {
                "username": user.username,
                "roles": user.role_names,
                "accounts": accounts_tradeable_by(user),
            }
        )
