from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.trading.api.serializers import (
    MassCancelResultSerializer,
    MassCancelSerializer,
    OrderCreateSerializer,
    OrderModifySerializer,
    OrderSerializer,
    PositionSerializer,
)
from apps.trading.errors import OrderRejected
from apps.trading.selectors import order_as_dict, orders_of, position_as_dict, positions_of
from apps.trading.services import (
    MassCancelRequest,
    OrderRequest,
    order_cancel,
    order_modify,
    order_submit,
    orders_mass_cancel,
)
from project.api_errors import ErrorSerializer


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # IsAuthenticated ran first
    return user


class OrderViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[Any],
):
    """One's own orders. Creating and cancelling go through the matcher and answer with its
    outcome."""

    lookup_field = "order_id"
    lookup_value_regex = r"\d+"
    pagination_class = None

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_serializer_class(self) -> type[serializers.Serializer[None]]:
        by_action: dict[str, type[serializers.Serializer[None]]] = {
            "create": OrderCreateSerializer,
            "partial_update": OrderModifySerializer,
            "mass_cancel": MassCancelSerializer,
        }
        return by_action.get(self.action or "", OrderSerializer)

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=["open", "closed"], required=False)],
        responses=OrderSerializer(many=True),
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        status_filter = request.query_params.get("status")
        if status_filter not in (None, "open", "closed"):
            raise OrderRejected("invalid_filter", "The status filter must be 'open' or 'closed'.")
        orders = orders_of(_user(request), status_filter)[:500]
        return Response([order_as_dict(o, o.instrument) for o in orders])

    @extend_schema(
        request=OrderCreateSerializer,
        responses={
            201: OrderSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            409: ErrorSerializer,
            503: ErrorSerializer,
            504: ErrorSerializer,
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = serializer.validated_data
        order = order_submit(
            _user(request),
            OrderRequest(
                symbol=fields["symbol"],
                side=fields["side"],
                order_type=fields["type"],
                price=fields.get("price"),
                quantity=fields["quantity"],
                time_in_force=fields["time_in_force"],
                client_order_id=fields["client_order_id"],
                account=fields.get("account"),
                stop_price=fields.get("stop_price"),
                display_quantity=fields.get("display_quantity"),
                post_only=fields["post_only"],
                stp_mode=fields["stp_mode"],
            ),
        )
        return Response(order, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=OrderModifySerializer,
        responses={
            200: OrderSerializer,
            400: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
            503: ErrorSerializer,
            504: ErrorSerializer,
        },
    )
    def partial_update(
        self, request: Request, *args: Any, order_id: str = "", **kwargs: Any
    ) -> Response:
        """Modify: a smaller quantity at the same price keeps time priority; a new price or a
        larger quantity loses it and may trade at once."""
        serializer = OrderModifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = serializer.validated_data
        return Response(
            order_modify(_user(request), int(order_id), fields["price"], fields["quantity"])
        )

    @extend_schema(
        request=MassCancelSerializer,
        responses={200: MassCancelResultSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    @action(detail=False, methods=["post"], url_path="mass-cancel")
    def mass_cancel(self, request: Request) -> Response:
        """Cancel every working order the filters select: one's own, or anyone's for a risk
        manager."""
        serializer = MassCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cancelled = orders_mass_cancel(
            _user(request), MassCancelRequest(**serializer.validated_data)
        )
        return Response({"cancelled_orders": cancelled})

    @extend_schema(
        responses={
            200: OrderSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
            503: ErrorSerializer,
            504: ErrorSerializer,
        },
    )
    def destroy(self, request: Request, *args: Any, order_id: str = "", **kwargs: Any) -> Response:
        return Response(order_cancel(_user(request), int(order_id)))


class PositionViewSet(viewsets.ViewSet):
    """Net positions of the accounts one trades, with average price and realised P&L."""

    @extend_schema(responses=PositionSerializer(many=True))
    def list(self, request: Request) -> Response:
        return Response([position_as_dict(p) for p in positions_of(_user(request))])
