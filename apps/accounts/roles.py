"""The desk's roles. Each is a Django group holding the permissions its members need."""

from typing import Final

TRADER: Final = "trader"
RISK_MANAGER: Final = "risk_manager"
AUDITOR: Final = "auditor"
ADMIN: Final = "admin"

# role → "app_label.codename" permissions; created by migration, checked with has_perm().
ROLE_PERMISSIONS: Final[dict[str, tuple[str, ...]]] = {
    TRADER: ("trading.submit_order", "trading.cancel_order"),
    RISK_MANAGER: (
        "trading.view_all_orders",
        "trading.cancel_any_order",
        "risk.view_risk_limits",
        "risk.change_risk_limits",
        "risk.operate_kill_switch",
        "breakers.halt_trading",
        "breakers.change_breakers",
    ),
    AUDITOR: (
        "audit.view_eventrecord",
        "audit.view_legalhold",
        "trading.view_all_orders",
        # Auditors read the limits in force; they never change them.
        "risk.view_risk_limits",
    ),
    ADMIN: (
        "trading.view_all_orders",
        "audit.view_eventrecord",
        "instruments.add_instrument",
        "instruments.change_instrument",
        "accounts.add_tradingaccount",
        "accounts.change_tradingaccount",
        "audit.view_legalhold",
        "audit.add_legalhold",
        "audit.change_legalhold",
        "risk.view_risk_limits",
        "risk.change_risk_limits",
        "risk.operate_kill_switch",
        "breakers.halt_trading",
        "breakers.change_breakers",
    ),
}
