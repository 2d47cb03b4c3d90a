"""The risk API: limits, restrictions, kill switches, and a trader's own risk settings.

Risk managers and administrators read and change; auditors read; everyone else is refused.
Views parse and call one service; the service checks the role again and does the work.
"""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import TradingAccount, User
from apps.instruments.models import Instrument
from apps.risk import selectors, services
from apps.risk.api import serializers as s
from apps.risk.models import PositionLimit, RestrictedInstrument, TraderRiskSettings
from project.api_controls import (
    READ_ERRORS,
    WRITE_ERRORS,
    request_user,
    validated_body,
)
from project.api_errors import ErrorSerializer, Rejection


class CanReadLimits(BasePermission):
    """Reading needs the risk read permission; a change is let through to its service, which
    answers 403 to a role that may read but not change (an auditor)."""

    message = "Only risk managers, auditors and administrators may see the risk limits."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not isinstance(user, User) or not services.can_view_limits(user):
            return False
        return True if request.method in SAFE_METHODS else bool(user.is_active)


class RiskApiView(APIView):
    permission_classes = [IsAuthenticated, CanReadLimits]


def _account(code: str) -> TradingAccount:
    account = TradingAccount.objects.filter(code=code).first()
    if account is None:
        raise Rejection("unknown_account", f"There is no trading account {code!r}.", 404)
    return account


def _instrument(symbol: str) -> Instrument:
    instrument = Instrument.objects.filter(symbol=symbol).first()
    if instrument is None:
        raise Rejection("unknown_instrument", f"Instrument {symbol!r} is not listed.", 404)
    return instrument


def _change(outcome: services.ControlOutcome, **shown: Any) -> dict[str, Any]:
    return {**shown, "changed": outcome.changed, "events": outcome.events}


# -- accounts -------------------------------------------------------------------------------


class AccountListView(RiskApiView):
    @extend_schema(
        operation_id="risk_accounts_list",
        tags=["risk"],
        responses={200: s.AccountLimitsSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        """Every trading account with its limits, position limits and restrictions."""
        return Response(selectors.accounts_with_limits())


class AccountDetailView(RiskApiView):
    @extend_schema(
        operation_id="risk_account_retrieve",
        tags=["risk"],
        responses={200: s.AccountLimitsSerializer, 404: ErrorSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, code: str) -> Response:
        account = _account(code)
        return Response(selectors.accounts_with_limits(account.code)[0])

    @extend_schema(
        operation_id="risk_account_update",
        tags=["risk"],
        request=s.AccountLimitsUpdateSerializer,
        responses={200: s.AccountChangeSerializer, **WRITE_ERRORS},
    )
    def patch(self, request: Request, code: str) -> Response:
        """Change some of an account's limits (null removes one); a reason is required."""
        account = _account(code)
        fields = validated_body(s.AccountLimitsUpdateSerializer, request)
        reason = fields.pop("reason")
        outcome = services.account_limits_update(request_user(request), account, fields, reason)
        shown = selectors.accounts_with_limits(account.code)[0]
        return Response(_change(outcome, account=shown))


# -- instruments ----------------------------------------------------------------------------


class InstrumentListView(RiskApiView):
    @extend_schema(
        operation_id="risk_instruments_list",
        tags=["risk"],
        responses={200: s.InstrumentLimitsSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        """Every instrument's per-order limits."""
        return Response(
            [
                selectors.instrument_limits_as_dict(selectors.instrument_limits(instrument))
                for instrument in Instrument.objects.order_by("symbol")
            ]
        )


class InstrumentDetailView(RiskApiView):
    @extend_schema(
        operation_id="risk_instrument_retrieve",
        tags=["risk"],
        responses={200: s.InstrumentLimitsSerializer, 404: ErrorSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, symbol: str) -> Response:
        limits = selectors.instrument_limits(_instrument(symbol))
        return Response(selectors.instrument_limits_as_dict(limits))

    @extend_schema(
        operation_id="risk_instrument_update",
        tags=["risk"],
        request=s.InstrumentLimitsUpdateSerializer,
        responses={200: s.InstrumentChangeSerializer, **WRITE_ERRORS},
    )
    def patch(self, request: Request, symbol: str) -> Response:
        """Change an instrument's per-order limits for every account; a reason is required."""
        instrument = _instrument(symbol)
        fields = validated_body(s.InstrumentLimitsUpdateSerializer, request)
        reason = fields.pop("reason")
        outcome = services.instrument_limits_update(
            request_user(request), instrument, fields, reason
        )
        shown = selectors.instrument_limits_as_dict(selectors.instrument_limits(instrument))
        return Response(_change(outcome, instrument=shown))


# -- position limits ------------------------------------------------------------------------


class PositionLimitView(RiskApiView):
    @extend_schema(
        operation_id="risk_positions_list",
        tags=["risk"],
        parameters=[OpenApiParameter("account", str, description="Only this account's.")],
        responses={200: s.PositionLimitSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        account = request.query_params.get("account")
        return Response(
            [selectors.position_limit_as_dict(p) for p in selectors.position_limits(account)]
        )

    @extend_schema(
        operation_id="risk_positions_set",
        tags=["risk"],
        request=s.PositionLimitSetSerializer,
        responses={200: s.PositionChangeSerializer, **WRITE_ERRORS},
    )
    def put(self, request: Request) -> Response:
        """Set an account's position limits in one instrument (both null: no limit)."""
        fields = validated_body(s.PositionLimitSetSerializer, request)
        outcome = services.position_limit_set(
            request_user(request),
            fields["account"],
            fields["symbol"],
            fields["max_long"],
            fields["max_short"],
            fields["reason"],
        )
        row = outcome.row
        shown = selectors.position_limit_as_dict(row) if isinstance(row, PositionLimit) else None
        return Response(_change(outcome, position_limit=shown))

    @extend_schema(
        operation_id="risk_positions_set_post",
        tags=["risk"],
        request=s.PositionLimitSetSerializer,
        responses={200: s.PositionChangeSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        """The same as PUT."""
        return self.put(request)


# -- restricted list ------------------------------------------------------------------------


class RestrictedListView(RiskApiView):
    @extend_schema(
        operation_id="risk_restricted_list",
        tags=["risk"],
        responses={200: s.RestrictedSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        """Restricted instruments: firm-wide (account null) and per account."""
        return Response([selectors.restricted_as_dict(r) for r in selectors.restricted_entries()])

    @extend_schema(
        operation_id="risk_restricted_create",
        tags=["risk"],
        request=s.RestrictSerializer,
        responses={201: s.RestrictedChangeSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        """Restrict an instrument for the firm or for one account; a reason is required."""
        fields = validated_body(s.RestrictSerializer, request)
        outcome = services.restricted_set(
            request_user(request),
            fields["symbol"],
            fields["account"] or None,
            True,
            fields["reason"],
        )
        row = outcome.row
        shown = selectors.restricted_as_dict(row) if isinstance(row, RestrictedInstrument) else None
        return Response(_change(outcome, restricted=shown), status=status.HTTP_201_CREATED)


class RestrictedDetailView(RiskApiView):
    @extend_schema(
        operation_id="risk_restricted_delete",
        tags=["risk"],
        parameters=[
            OpenApiParameter(
                "reason", str, description="Why it is lifted (or `reason` in the JSON body)."
            )
        ],
        request=s.ReasonSerializer,
        responses={200: s.RestrictedChangeSerializer, **WRITE_ERRORS},
    )
    def delete(self, request: Request, entry_id: int) -> Response:
        """Lift a restriction; a reason is required (body or query string)."""
        reason = str(request.query_params.get("reason", ""))
        if request.data:
            reason = validated_body(s.ReasonSerializer, request)["reason"] or reason
        outcome = services.restricted_lift(request_user(request), entry_id, reason)
        return Response(_change(outcome, restricted=None))


# -- firm policy ----------------------------------------------------------------------------


class FirmPolicyView(RiskApiView):
    @extend_schema(
        operation_id="risk_firm_retrieve",
        tags=["risk"],
        responses={200: s.FirmPolicySerializer, **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        """The firm-wide controls: price collar, duplicate window, throttle, authorised users."""
        return Response(selectors.firm_policy_as_dict(selectors.firm_policy()))

    @extend_schema(
        operation_id="risk_firm_update",
        tags=["risk"],
        request=s.FirmPolicyUpdateSerializer,
        responses={200: s.FirmChangeSerializer, **WRITE_ERRORS},
    )
    def patch(self, request: Request) -> Response:
        fields = validated_body(s.FirmPolicyUpdateSerializer, request)
        reason = fields.pop("reason")
        outcome = services.firm_policy_update(request_user(request), fields, reason)
        return Response(
            _change(outcome, firm=selectors.firm_policy_as_dict(selectors.firm_policy()))
        )


# -- kill switches --------------------------------------------------------------------------


class KillSwitchView(RiskApiView):
    @extend_schema(
        operation_id="risk_kill_switches_list",
        tags=["risk"],
        responses={200: s.KillSwitchStateSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        """The kill switches engaged now (by a person, or latched at the daily loss limit)."""
        return Response(selectors.kill_switches_engaged())

    @extend_schema(
        operation_id="risk_kill_switches_operate",
        tags=["risk"],
        request=s.KillSwitchSerializer,
        responses={200: s.KillSwitchResultSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        """Engage (cancelling every working order in scope, blocking new ones until released)
        or release a kill switch for the firm, an account or a trader."""
        fields = validated_body(s.KillSwitchSerializer, request)
        user = request_user(request)
        if fields["action"] == "engage":
            outcome = services.kill_switch_engage(
                user,
                fields["scope"],
                account=fields["account"],
                trader=fields["trader"],
                reason=fields["reason"],
                allow_risk_reducing=fields["allow_risk_reducing"],
            )
        else:
            outcome = services.kill_switch_release(
                user,
                fields["scope"],
                account=fields["account"],
                trader=fields["trader"],
                reason=fields["reason"],
            )
        events = outcome.events or []
        return Response(
            {
                "scope": fields["scope"],
                "account": fields["account"] or None,
                "trader": fields["trader"] or None,
                "engaged": fields["action"] == "engage",
                "cancelled_orders": sum(int(e.get("cancelled_orders", 0)) for e in events),
                "events": events,
            }
        )


# -- a trader's own settings ----------------------------------------------------------------


class MySettingsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="risk_me_settings_retrieve",
        tags=["risk"],
        responses={200: s.TraderSettingsSerializer, 401: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        """One's own risk settings."""
        return Response(
            {"cancel_on_disconnect": selectors.cancel_on_disconnect(request_user(request))}
        )

    @extend_schema(
        operation_id="risk_me_settings_update",
        tags=["risk"],
        request=s.TraderSettingsSerializer,
        responses={200: s.TraderSettingsSerializer, 400: ErrorSerializer, 401: ErrorSerializer},
    )
    def patch(self, request: Request) -> Response:
        """Opt in to (or out of) cancel-on-disconnect for one's own working DAY orders."""
        fields = validated_body(s.TraderSettingsSerializer, request)
        saved: TraderRiskSettings = services.trader_settings_update(
            request_user(request), fields["cancel_on_disconnect"]
        )
        return Response({"cancel_on_disconnect": saved.cancel_on_disconnect})
