"""The risk stage: the pre-trade controls of SEC Rule 15c3-5, inside the engine, in front of the
book, so that no order reaches the book around them.

The engine calls `check_new_order` / `check_modify` / `admit_cancel` before an order may trade,
and tells the stage about every change of working quantity (`work`, `unwork`) and every trade
(`trade`), from which it keeps, per account, the open exposure, the filled notional, positions
and the day's P&L. Limits arrive as sequenced commands; a stage with no limits set checks
nothing, so an embedder chooses its own policy (the desk sends its policy at matcher start).

Money is integer micros (a millionth of the currency unit): an instrument's `lot_tick_micros`
is what one tick is worth on one lot.
"""

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from apps.matching.engine.book import Instrument
from apps.matching.engine.types import KillScope, Reason, RiskLimit, RiskList, Side

BUY: Final = Side.BUY
BUY_VALUE: Final = Side.BUY.value
SELL_VALUE: Final = Side.SELL.value
Refusal = tuple[Reason, str]

FIRM_LIMITS: Final = frozenset(
    {
        RiskLimit.COLLAR_BPS,
        RiskLimit.COLLAR_MIN_MICROS,
        RiskLimit.DUPLICATE_WINDOW_NS,
        RiskLimit.THROTTLE_WINDOW_NS,
        RiskLimit.THROTTLE_MESSAGES,
        RiskLimit.THROTTLE_CANCELS,
        RiskLimit.AUTHORISED_USERS_ONLY,
    }
)
ORDER_LIMITS: Final = frozenset({RiskLimit.MAX_ORDER_LOTS, RiskLimit.MAX_ORDER_NOTIONAL_MICROS})
ACCOUNT_LIMITS: Final = ORDER_LIMITS | {
    RiskLimit.CREDIT_LIMIT_MICROS,
    RiskLimit.LOSS_WARNING_MICROS,
    RiskLimit.LOSS_REDUCE_ONLY_MICROS,
    RiskLimit.LOSS_KILL_MICROS,
    RiskLimit.PERMITTED_INSTRUMENTS_ONLY,
}
POSITION_LIMITS: Final = frozenset({RiskLimit.MAX_LONG_LOTS, RiskLimit.MAX_SHORT_LOTS})
FLAG_LIMITS: Final = frozenset(
    {RiskLimit.AUTHORISED_USERS_ONLY, RiskLimit.PERMITTED_INSTRUMENTS_ONLY}
)
CREDIT_ALERT_PERCENTS: Final = (50, 75, 90)
# The alert that comes after the highest one raised (none after the last).
NEXT_CREDIT_PERCENT: Final = dict(
    zip((0, *CREDIT_ALERT_PERCENTS[:-1]), CREDIT_ALERT_PERCENTS, strict=True)
)

# Daily loss stages, in the order they bite.
LOSS_OK: Final = 0
LOSS_WARNING: Final = 1
LOSS_REDUCE_ONLY: Final = 2
LOSS_KILLED: Final = 3
LOSS_STAGE_NAMES: Final = ("ok", "warning", "reduce_only", "killed")
# Each stage past "ok": the limit that starts it, the alert it raises and how its sentence ends.
LOSS_STAGES: Final = (
    (LOSS_WARNING, RiskLimit.LOSS_WARNING_MICROS, "loss_warning", "warning level"),
    (
        LOSS_REDUCE_ONLY,
        RiskLimit.LOSS_REDUCE_ONLY_MICROS,
        "loss_reduce_only",
        "reduce-only level: only orders that reduce a position are accepted",
    ),
    (
        LOSS_KILLED,
        RiskLimit.LOSS_KILL_MICROS,
        "loss_kill",
        "kill level: the account's kill switch is latched",
    ),
)


def money(micros: int) -> str:
    """Micros as a plain decimal amount, for sentences."""
    sign = "-" if micros < 0 else ""
    whole, fraction = divmod(abs(micros), 1_000_000)
    cents = f"{fraction:06d}".rstrip("0")
    return f"{sign}{whole:,}.{cents.ljust(2, '0')}"


class Kill(NamedTuple):
    """A latched kill switch: who pulled it, when, why, and whether it lets risk-reducing
    orders through."""

    user_id: int
    since_ns: int
    reason: str
    allow_risk_reducing: bool
    automatic: bool


@dataclass(slots=True)
class Holding:
    """One account's position in one instrument, with what it has working and the day's cash.

    The day's P&L is `cash_ticks + position * mark - open_position * open_mark` (in ticks
    times lots): exact in integers, with no average price to round.
    """

    position_lots: int = 0
    working_buy_lots: int = 0
    working_sell_lots: int = 0
    cash_ticks: int = 0
    open_position_lots: int = 0
    open_mark_ticks: int = 0


@dataclass(slots=True)
class AccountRisk:
    account: str
    working_notional_micros: int = 0
    filled_notional_micros: int = 0
    holdings: dict[str, Holding] = field(default_factory=dict)
    # The highest credit utilisation alert raised today (0, 50, 75 or 90 %).
    credit_alerted: int = 0
    loss_stage: int = LOSS_OK


@dataclass(slots=True, frozen=True)
class AlertLevels:
    """What an account's alerts are measured against, read from its limits when they change
    (not part of the state: derived from the limits)."""

    # 0: no credit limit (and no credit alerts).
    credit_micros: int
    # By the account's current loss stage (ok, warning, reduce-only): the least loss at which
    # a later stage begins, or None when no later stage has a limit.
    next_loss_micros: tuple[int | None, int | None, int | None]
    # By the highest credit alert raised (0, 50, 75 %): the least usage that raises the next
    # one, so that the check after each command is a comparison, not two products of money.
    next_credit_alert_micros: dict[int, int]

    @classmethod
    def of(cls, limits: dict[RiskLimit, int]) -> "AlertLevels":
        stage_levels = [(stage, limits.get(limit)) for stage, limit, _, _ in LOSS_STAGES]

        def next_loss(current: int) -> int | None:
            later = [lv for stage, lv in stage_levels if stage > current and lv is not None]
            return min(later) if later else None

        credit = limits.get(RiskLimit.CREDIT_LIMIT_MICROS) or 0
        return cls(
            credit,
            (next_loss(LOSS_OK), next_loss(LOSS_WARNING), next_loss(LOSS_REDUCE_ONLY)),
            # used * 100 >= credit * percent, for a whole `used`: at least the quotient,
            # rounded up.
            {
                alerted: -(-credit * percent // 100)
                for alerted, percent in NEXT_CREDIT_PERCENT.items()
            }
            if credit
            else {},
        )


class RiskAlertRaised(NamedTuple):
    account: str
    alert: str
    value: int
    limit: int
    message: str


class RiskStage:
    """Limits, lists, kill switches and the running aggregates they are checked against."""

    def __init__(self, instruments: dict[str, Instrument]) -> None:
        # The engine's instruments (for tick values, marks and reference prices); shared.
        self.instruments = instruments
        self.firm: dict[RiskLimit, int] = {}
        self.account_limits: dict[str, dict[RiskLimit, int]] = {}
        # Derived from `account_limits`, for every account whose table is not empty.
        self.alert_levels: dict[str, AlertLevels] = {}
        self.instrument_limits: dict[str, dict[RiskLimit, int]] = {}
        self.position_limits: dict[tuple[str, str], dict[RiskLimit, int]] = {}
        self.restricted: dict[str, set[str]] = {}  # account ("" = firm) → symbols
        self.permitted: dict[str, set[str]] = {}  # account → symbols
        self.authorised: dict[str, set[int]] = {}  # account → operators
        self.firm_kill: Kill | None = None
        self.account_kills: dict[str, Kill] = {}
        self.trader_kills: dict[int, Kill] = {}
        self.accounts: dict[str, AccountRisk] = {}
        # Sliding windows of message times per operator: orders and modifies, and cancels.
        self.messages: dict[int, deque[int]] = {}
        self.cancels: dict[int, deque[int]] = {}
        # Identical orders seen within the duplicate window: key → time, and the keys in time
        # order so that old ones leave the window cheaply.
        self.recent_orders: dict[tuple[str, str, str, str, int, int], int] = {}
        self.recent_order_times: deque[tuple[int, tuple[str, str, str, str, int, int]]] = deque()
        # Accounts whose figures the current command changed (the engine evaluates their
        # alerts and loss stages when it ends), and those changed since the matcher last
        # asked (to publish them). Neither is part of the state.
        self.changed: set[str] = set()
        self.touched: set[str] = set()
        self._firm_changed()

    # -- configuration ----------------------------------------------------------------------

    def _firm_changed(self) -> None:
        """Keep the firm policy in plain attributes: they are read for every order."""
        firm = self.firm
        self.collar_bps = firm.get(RiskLimit.COLLAR_BPS)
        self.collar_min_micros = firm.get(RiskLimit.COLLAR_MIN_MICROS, 0)
        self.duplicate_window_ns = firm.get(RiskLimit.DUPLICATE_WINDOW_NS)
        self.throttle_window_ns = firm.get(RiskLimit.THROTTLE_WINDOW_NS, 0)
        self.throttle_messages = firm.get(RiskLimit.THROTTLE_MESSAGES)
        self.throttle_cancels = firm.get(RiskLimit.THROTTLE_CANCELS)
        self.authorised_only = bool(firm.get(RiskLimit.AUTHORISED_USERS_ONLY, 0))

    def limit_refusal(self, limit: RiskLimit, value: int | None, account: str, symbol: str) -> str:
        """Why a limit change is invalid, or ""."""
        if value is not None and value < 0:
            return "A limit cannot be negative."
        if value is not None and limit in FLAG_LIMITS and value not in (0, 1):
            return f"{limit} is a switch: 0 or 1."
        if limit in FIRM_LIMITS:
            return "" if not account and not symbol else f"{limit} is a firm-wide limit."
        if limit in POSITION_LIMITS:
            return "" if account and symbol else f"{limit} needs an account and an instrument."
        if limit in ORDER_LIMITS and symbol and not account:
            return ""
        if account and not symbol:
            return ""
        return f"{limit} is set per account" + (
            " or per instrument." if limit in ORDER_LIMITS else "."
        )

    def _limit_table(self, limit: RiskLimit, account: str, symbol: str) -> dict[RiskLimit, int]:
        if limit in FIRM_LIMITS:
            return self.firm
        if limit in POSITION_LIMITS:
            return self.position_limits.setdefault((account, symbol), {})
        if account:
            return self.account_limits.setdefault(account, {})
        return self.instrument_limits.setdefault(symbol, {})

    def set_limit(
        self, limit: RiskLimit, value: int | None, account: str, symbol: str
    ) -> int | None:
        """Set (or remove) a limit; return the value it had."""
        table = self._limit_table(limit, account, symbol)
        old = table.get(limit)
        if value is None:
            table.pop(limit, None)
        else:
            table[limit] = value
        if table is self.firm:
            self._firm_changed()
        elif account and table is self.account_limits.get(account):
            self._account_limits_changed(account)
        if account:
            self.changed.add(account)
        return old

    def _account_limits_changed(self, account: str) -> None:
        limits = self.account_limits.get(account)
        if limits:
            self.alert_levels[account] = AlertLevels.of(limits)
        else:
            self.alert_levels.pop(account, None)

    def list_refusal(self, risk_list: RiskList, account: str, symbol: str, trader: int) -> str:
        if risk_list is RiskList.AUTHORISED:
            return "" if account and trader > 0 and not symbol else "Name an account and a user."
        if not symbol or trader:
            return "Name an instrument."
        if risk_list is RiskList.PERMITTED and not account:
            return "Instrument permissions are per account."
        return ""

    def set_list_entry(
        self, risk_list: RiskList, member: bool, account: str, symbol: str, trader: int
    ) -> bool:
        """Add or remove a list entry; return whether it was a member before."""
        entries: set[Any]
        entry: Any
        if risk_list is RiskList.AUTHORISED:
            entries, entry = self.authorised.setdefault(account, set()), trader
        elif risk_list is RiskList.PERMITTED:
            entries, entry = self.permitted.setdefault(account, set()), symbol
        else:
            entries, entry = self.restricted.setdefault(account, set()), symbol
        was_member = entry in entries
        if member:
            entries.add(entry)
        else:
            entries.discard(entry)
        return was_member

    def configuration(
        self,
    ) -> tuple[dict[tuple[RiskLimit, str, str], int], set[tuple[RiskList, str, str, int]]]:
        """Every limit that is set, keyed by (limit, account, symbol), and every list entry as
        (list, account, symbol, operator)."""
        limits: dict[tuple[RiskLimit, str, str], int] = {}
        for limit, value in self.firm.items():
            limits[(limit, "", "")] = value
        for account, table in self.account_limits.items():
            for limit, value in table.items():
                limits[(limit, account, "")] = value
        for symbol, table in self.instrument_limits.items():
            for limit, value in table.items():
                limits[(limit, "", symbol)] = value
        for (account, symbol), table in self.position_limits.items():
            for limit, value in table.items():
                limits[(limit, account, symbol)] = value
        lists: set[tuple[RiskList, str, str, int]] = set()
        for account, symbols in self.restricted.items():
            lists.update((RiskList.RESTRICTED, account, s, 0) for s in symbols)
        for account, symbols in self.permitted.items():
            lists.update((RiskList.PERMITTED, account, s, 0) for s in symbols)
        for account, users in self.authorised.items():
            lists.update((RiskList.AUTHORISED, account, "", u) for u in users)
        return limits, lists

    # -- kill switches ----------------------------------------------------------------------

    def kill_for(self, account: str, user_id: int) -> Kill | None:
        return self.firm_kill or self.account_kills.get(account) or self.trader_kills.get(user_id)

    def kill_engaged(self, scope: KillScope, account: str, trader: int) -> Kill | None:
        if scope is KillScope.FIRM:
            return self.firm_kill
        if scope is KillScope.ACCOUNT:
            return self.account_kills.get(account)
        return self.trader_kills.get(trader)

    def set_kill(self, scope: KillScope, account: str, trader: int, kill: Kill | None) -> None:
        if scope is KillScope.FIRM:
            self.firm_kill = kill
            self.changed.update(self.accounts)
        elif scope is KillScope.ACCOUNT:
            if kill is None:
                self.account_kills.pop(account, None)
            else:
                self.account_kills[account] = kill
            self.changed.add(account)
        elif kill is None:
            self.trader_kills.pop(trader, None)
        else:
            self.trader_kills[trader] = kill

    # -- running aggregates -----------------------------------------------------------------

    def account(self, code: str) -> AccountRisk:
        risk = self.accounts.get(code)
        if risk is None:
            risk = self.accounts[code] = AccountRisk(code)
        return risk

    def holding(self, risk: AccountRisk, symbol: str) -> Holding:
        holding = risk.holdings.get(symbol)
        if holding is None:
            holding = risk.holdings[symbol] = Holding()
            book = self.instruments[symbol].book
            holding.open_mark_ticks = book.last_trade_ticks or 0
        return holding

    def work(self, account: str, symbol: str, side: Side, price_ticks: int, lots: int) -> None:
        """`lots` more of an order at `price_ticks` are working (resting, or a waiting stop)."""
        # Called for every order that rests or leaves: look up before creating.
        risk = self.accounts.get(account) or self.account(account)
        # Multiplied unsigned: compiled, a negative factor takes the slow, boxed multiply.
        notional = price_ticks * abs(lots) * self.instruments[symbol].lot_tick_micros
        risk.working_notional_micros += notional if lots >= 0 else -notional
        holding = risk.holdings.get(symbol) or self.holding(risk, symbol)
        if side is BUY:
            holding.working_buy_lots += lots
        else:
            holding.working_sell_lots += lots
        # To publish; and, with alert limits, to evaluate when the command ends (most
        # accounts have none: their figures skip the per-command evaluation).
        self.touched.add(account)
        if account in self.alert_levels:
            self.changed.add(account)

    def unwork(self, account: str, symbol: str, side: Side, price_ticks: int, lots: int) -> None:
        self.work(account, symbol, side, price_ticks, -lots)

    def trade(self, symbol: str, price_ticks: int, lots: int, buyer: str, seller: str) -> None:
        notional = price_ticks * lots * self.instruments[symbol].lot_tick_micros
        accounts = self.accounts
        # The buyer first, then the seller (the order in which new figures are created).
        risk = accounts.get(buyer) or self.account(buyer)
        risk.filled_notional_micros += notional
        holding = risk.holdings.get(symbol) or self.holding(risk, symbol)
        holding.position_lots += lots
        holding.cash_ticks -= lots * price_ticks
        risk = accounts.get(seller) or self.account(seller)
        risk.filled_notional_micros += notional
        holding = risk.holdings.get(symbol) or self.holding(risk, symbol)
        holding.position_lots -= lots
        holding.cash_ticks += lots * price_ticks
        # As in `work`.
        touched = self.touched
        touched.add(buyer)
        touched.add(seller)
        levels = self.alert_levels
        if buyer in levels:
            self.changed.add(buyer)
        if seller in levels:
            self.changed.add(seller)

    def mark_ticks(self, symbol: str, holding: Holding) -> int:
        instrument = self.instruments[symbol]
        return (
            instrument.book.last_trade_ticks
            or instrument.reference_price_ticks
            or holding.open_mark_ticks
        )

    def pnl_micros(self, risk: AccountRisk) -> int:
        """The day's realised plus marked-to-market P&L of an account."""
        total = 0
        instruments = self.instruments
        for symbol, h in risk.holdings.items():
            # As `mark_ticks`, inline: this runs after nearly every command.
            instrument = instruments[symbol]
            mark = (
                instrument.book.last_trade_ticks
                or instrument.reference_price_ticks
                or h.open_mark_ticks
            )
            ticks = h.cash_ticks + h.position_lots * mark - h.open_position_lots * h.open_mark_ticks
            total += ticks * instrument.lot_tick_micros
        return total

    def reset_day(self) -> int:
        """A new session: filled notional, the P&L baseline, loss stages and alerts restart."""
        for risk in self.accounts.values():
            risk.filled_notional_micros = 0
            risk.credit_alerted = 0
            risk.loss_stage = LOSS_OK
            for symbol, h in risk.holdings.items():
                h.open_mark_ticks = self.mark_ticks(symbol, h)
                h.open_position_lots = h.position_lots
                h.cash_ticks = 0
            self.changed.add(risk.account)
        self.recent_orders.clear()
        self.recent_order_times.clear()
        return len(self.accounts)

    def evaluate(self, code: str) -> list[RiskAlertRaised]:
        """Credit utilisation alerts and daily loss stages of one account, after a change."""
        levels = self.alert_levels.get(code)
        if levels is None:
            return []
        # An account with limits has its figures from its first evaluation on.
        risk = self.accounts.get(code) or self.account(code)
        # Called after nearly every command: see first, cheaply, whether any alert is due.
        credit = levels.credit_micros
        used = risk.working_notional_micros + risk.filled_notional_micros
        threshold = levels.next_credit_alert_micros.get(risk.credit_alerted)
        credit_due = threshold is not None and used >= threshold
        loss = 0
        loss_due = False
        if risk.loss_stage < LOSS_KILLED:
            next_level = levels.next_loss_micros[risk.loss_stage]
            if next_level is not None:
                loss = -self.pnl_micros(risk)
                loss_due = loss >= next_level
        if not credit_due and not loss_due:
            return []
        alerts: list[RiskAlertRaised] = []
        if credit_due:
            for percent in CREDIT_ALERT_PERCENTS:
                if percent > risk.credit_alerted and used * 100 >= credit * percent:
                    risk.credit_alerted = percent
                    alerts.append(
                        RiskAlertRaised(
                            code,
                            f"credit_{percent}",
                            used,
                            credit,
                            f"{code} has used {used * 100 // credit} % of its credit limit "
                            f"({money(used)} of {money(credit)}).",
                        )
                    )
        if loss_due:
            limits = self.account_limits[code]
            for stage, limit, name, sentence in LOSS_STAGES:
                level = limits.get(limit)
                if level is not None and stage > risk.loss_stage and loss >= level:
                    risk.loss_stage = stage
                    alerts.append(
                        RiskAlertRaised(
                            code,
                            name,
                            loss,
                            level,
                            f"{code} has lost {money(loss)} today, at or beyond its daily loss "
                            f"{sentence} ({money(level)}).",
                        )
                    )
        return alerts

    # -- the checks -------------------------------------------------------------------------

    def _admit(self, window: dict[int, deque[int]], limit: int, user_id: int, ts: int) -> bool:
        """Sliding-window throttle: at most `limit` messages in any `throttle_window_ns`."""
        times = window.get(user_id)
        if times is None:
            times = window[user_id] = deque()
        horizon = ts - self.throttle_window_ns
        while times and times[0] <= horizon:
            times.popleft()
        if len(times) >= limit:
            return False
        times.append(ts)
        return True

    def admit_cancel(self, user_id: int, ts: int) -> Refusal | None:
        limit = self.throttle_cancels
        if limit is None or self._admit(self.cancels, limit, user_id, ts):
            return None
        return (
            Reason.MESSAGE_RATE_EXCEEDED,
            f"Cancel rate above {limit} in {self.throttle_window_ns / 1e9:g} s; slow down.",
        )

    def _admit_message(self, user_id: int, ts: int) -> Refusal | None:
        limit = self.throttle_messages
        if limit is None or self._admit(self.messages, limit, user_id, ts):
            return None
        return self._message_rate_refusal(limit)

    def _message_rate_refusal(self, limit: int) -> Refusal:
        return (
            Reason.MESSAGE_RATE_EXCEEDED,
            f"Message rate above {limit} in {self.throttle_window_ns / 1e9:g} s; slow down.",
        )

    def _reduces(self, account: str, symbol: str, side: Side, lots: int) -> bool:
        """Whether an order only shrinks the position, counting what already works that way."""
        risk = self.accounts.get(account)
        holding = risk.holdings.get(symbol) if risk is not None else None
        if holding is None:
            return False
        position = holding.position_lots
        if side is BUY:
            return position < 0 and lots + holding.working_buy_lots <= -position
        return position > 0 and lots + holding.working_sell_lots <= position

    def _kill_refusal(
        self, account: str, user_id: int, symbol: str, side: Side, lots: int
    ) -> Refusal | None:
        kill = self.kill_for(account, user_id)
        if kill is None or (
            kill.allow_risk_reducing and self._reduces(account, symbol, side, lots)
        ):
            return None
        scope = (
            "the firm"
            if kill is self.firm_kill
            else account
            if kill is self.account_kills.get(account)
            else "you"
        )
        extra = (
            " Only orders that reduce a position are accepted." if kill.allow_risk_reducing else ""
        )
        return Reason.KILL_SWITCH, f"The kill switch is engaged for {scope}: {kill.reason}{extra}"

    def check_new_order(
        self,
        ts: int,
        user_id: int,
        account: str,
        symbol: str,
        side: Side,
        lots: int,
        price_ticks: int,
        is_market: bool,
        limit_ticks: int,
    ) -> Refusal | None:
        """The per-order controls, in the order they bite. `price_ticks` is the price the order
        is valued at (its limit, its stop, or a market order's protection price);
        `limit_ticks` its limit (0 for market and stop orders)."""
        limit = self.throttle_messages
        if limit is not None:
            # `_admit_message`, inline: every order meets it.
            times = self.messages.get(user_id)
            if times is None:
                times = self.messages[user_id] = deque()
            horizon = ts - self.throttle_window_ns
            while times and times[0] <= horizon:
                times.popleft()
            if len(times) >= limit:
                return self._message_rate_refusal(limit)
            times.append(ts)
        if self.authorised_only and user_id not in self.authorised.get(account, ()):
            return Reason.USER_NOT_AUTHORISED, f"You are not authorised to trade account {account}."
        if self.firm_kill or self.account_kills or self.trader_kills:
            refusal = self._kill_refusal(account, user_id, symbol, side, lots)
            if refusal is not None:
                return refusal
        restricted = self.restricted
        if restricted and (
            symbol in restricted.get("", ()) or symbol in restricted.get(account, ())
        ):
            return Reason.RESTRICTED_INSTRUMENT, f"{symbol} is on the restricted list."
        limits = self.account_limits.get(account)
        if (
            limits is not None
            and limits.get(RiskLimit.PERMITTED_INSTRUMENTS_ONLY)
            and symbol not in self.permitted.get(account, ())
        ):
            return (
                Reason.INSTRUMENT_NOT_PERMITTED,
                f"Account {account} is not permitted to trade {symbol}.",
            )
        instrument = self.instruments[symbol]
        notional = price_ticks * lots * instrument.lot_tick_micros
        if limits or self.instrument_limits:
            refusal = self._order_sizes_refusal(limits, account, symbol, lots, notional)
            if refusal is not None:
                return refusal
        if self.collar_bps is not None:
            refusal = self._collar_refusal(instrument, side, limit_ticks, is_market)
            if refusal is not None:
                return refusal
        if self.duplicate_window_ns is not None:
            refusal = self._duplicate_refusal(
                ts, account, symbol, side, limit_ticks, lots, is_market
            )
            if refusal is not None:
                return refusal
        if limits is not None or self.position_limits:
            return self._exposure_refusal(account, symbol, side, lots, notional, limits)
        return None

    def _order_sizes_refusal(
        self,
        account_limits: dict[RiskLimit, int] | None,
        account: str,
        symbol: str,
        lots: int,
        notional: int,
    ) -> Refusal | None:
        """The account's per-order maximums, then the instrument's."""
        if account_limits:
            refusal = self._order_size_refusal(account_limits, account, lots, notional)
            if refusal is not None:
                return refusal
        instrument_limits = self.instrument_limits.get(symbol)
        if instrument_limits:
            return self._order_size_refusal(instrument_limits, symbol, lots, notional)
        return None

    @staticmethod
    def _order_size_refusal(
        table: dict[RiskLimit, int], owner: str, lots: int, notional: int
    ) -> Refusal | None:
        """Maximum quantity and notional per order of one table: an account's or an
        instrument's (the account's is checked first)."""
        max_lots = table.get(RiskLimit.MAX_ORDER_LOTS)
        if max_lots is not None and lots > max_lots:
            return (
                Reason.MAX_ORDER_QUANTITY,
                f"{lots} lots is more than the {max_lots} lots an order may have for {owner}.",
            )
        max_notional = table.get(RiskLimit.MAX_ORDER_NOTIONAL_MICROS)
        if max_notional is not None and notional > max_notional:
            return (
                Reason.MAX_ORDER_NOTIONAL,
                f"The order is worth {money(notional)}, more than the "
                f"{money(max_notional)} an order may be worth for {owner}.",
            )
        return None

    def _collar_refusal(
        self, instrument: Instrument, side: Side, limit_ticks: int, is_market: bool
    ) -> Refusal | None:
        """Limit order protection: no limit priced through the reference by more than the
        greater of `collar_bps` and `collar_min_micros`; no market order without a reference."""
        collar_bps = self.collar_bps
        if collar_bps is None:
            return None
        reference = instrument.book.last_trade_ticks or instrument.reference_price_ticks
        if not reference:
            if is_market:
                return (
                    Reason.NO_REFERENCE_PRICE,
                    f"{instrument.symbol} has no reference price yet: send a limit order.",
                )
            return None
        if not limit_ticks:
            return None
        band = max(
            reference * collar_bps // 10_000,
            self.collar_min_micros // instrument.tick_size_micros,
        )
        if side is BUY and limit_ticks > reference + band:
            return (
                Reason.PRICE_COLLAR,
                f"The buy limit is more than {band} ticks above the reference price "
                f"({reference} ticks).",
            )
        if side is not BUY and limit_ticks < reference - band:
            return (
                Reason.PRICE_COLLAR,
                f"The sell limit is more than {band} ticks below the reference price "
                f"({reference} ticks).",
            )
        return None

    def _duplicate_refusal(
        self,
        ts: int,
        account: str,
        symbol: str,
        side: Side,
        limit_ticks: int,
        lots: int,
        is_market: bool,
    ) -> Refusal | None:
        window = self.duplicate_window_ns
        assert window is not None
        times = self.recent_order_times
        recent = self.recent_orders
        # A key is hashed once per lookup (a tuple keeps no hash): one lookup to leave, one
        # to enter, on this path that every order takes.
        while times and times[0][0] <= ts - window:
            old_ts, old_key = times.popleft()
            stamp = recent.pop(old_key, None)
            if stamp is not None and stamp != old_ts:
                recent[old_key] = stamp  # sent again since: that later one stays
        # The side's value without the enum's descriptor (this runs for every order).
        side_value = BUY_VALUE if side is BUY else SELL_VALUE
        key = (account, symbol, side_value, "market" if is_market else "limit", limit_ticks, lots)
        known = len(recent)
        recent.setdefault(key, ts)
        if len(recent) == known:
            return (
                Reason.DUPLICATE_ORDER,
                f"An identical order for {account} was sent less than "
                f"{window / 1e9:g} s ago; send it again if it is meant.",
            )
        times.append((ts, key))
        return None

    def _exposure_refusal(
        self,
        account: str,
        symbol: str,
        side: Side,
        lots: int,
        notional: int,
        limits: dict[RiskLimit, int] | None,
    ) -> Refusal | None:
        risk = self.accounts.get(account) or AccountRisk(account)
        if risk.loss_stage >= LOSS_REDUCE_ONLY and not self._reduces(account, symbol, side, lots):
            return (
                Reason.DAILY_LOSS_REDUCE_ONLY,
                f"{account} is past its daily loss reduce-only level: only orders that reduce "
                f"a position are accepted.",
            )
        position_limits = self.position_limits.get((account, symbol))
        if position_limits:
            holding = risk.holdings.get(symbol) or Holding()
            if side is BUY:
                cap = position_limits.get(RiskLimit.MAX_LONG_LOTS)
                reach = holding.position_lots + holding.working_buy_lots + lots
                if cap is not None and reach > cap:
                    return (
                        Reason.POSITION_LIMIT,
                        f"Filled, this order would take {account} to {reach} lots long in "
                        f"{symbol}; the limit is {cap}.",
                    )
            else:
                cap = position_limits.get(RiskLimit.MAX_SHORT_LOTS)
                reach = holding.working_sell_lots + lots - holding.position_lots
                if cap is not None and reach > cap:
                    return (
                        Reason.POSITION_LIMIT,
                        f"Filled, this order would take {account} to {reach} lots short in "
                        f"{symbol}; the limit is {cap}.",
                    )
        credit = limits.get(RiskLimit.CREDIT_LIMIT_MICROS) if limits else None
        if credit is not None:
            used = risk.working_notional_micros + risk.filled_notional_micros
            if used + notional > credit:
                return (
                    Reason.CREDIT_LIMIT,
                    f"The order ({money(notional)}) would take {account} to "
                    f"{money(used + notional)} of its {money(credit)} credit limit.",
                )
        return None

    def check_modify(
        self,
        ts: int,
        user_id: int,
        account: str,
        symbol: str,
        side: Side,
        old_price: int,
        old_lots: int,
        new_price: int,
        new_lots: int,
    ) -> Refusal | None:
        """A modify is a message; a new price or a larger quantity is an order entry and meets
        the per-order and aggregate controls for what it adds."""
        if self.throttle_messages is not None:
            refusal = self._admit_message(user_id, ts)
            if refusal is not None:
                return refusal
        if new_price == old_price and new_lots <= old_lots:
            return None
        if self.firm_kill or self.account_kills or self.trader_kills:
            refusal = self._kill_refusal(
                account, user_id, symbol, side, max(0, new_lots - old_lots)
            )
            if refusal is not None:
                return refusal
        instrument = self.instruments[symbol]
        limits = self.account_limits.get(account)
        notional = new_price * new_lots * instrument.lot_tick_micros
        if limits or self.instrument_limits:
            refusal = self._order_sizes_refusal(limits, account, symbol, new_lots, notional)
            if refusal is not None:
                return refusal
        if self.collar_bps is not None and new_price != old_price:
            refusal = self._collar_refusal(instrument, side, new_price, False)
            if refusal is not None:
                return refusal
        if limits is not None or self.position_limits:
            # Measured as if the old order were gone and the new one added.
            self.unwork(account, symbol, side, old_price, old_lots)
            try:
                return self._exposure_refusal(account, symbol, side, new_lots, notional, limits)
            finally:
                self.work(account, symbol, side, old_price, old_lots)
        return None

    # -- publishing -------------------------------------------------------------------------

    def drain_touched(self) -> list[str]:
        """The accounts whose figures changed since the last call, to publish."""
        touched = sorted(self.touched)
        self.touched.clear()
        return touched

    def account_view(self, code: str) -> dict[str, Any]:
        """An account's figures as plain integers (micros, lots), for the risk console."""
        risk = self.account(code)
        limits = self.account_limits.get(code, {})
        kill = self.account_kills.get(code)
        positions = []
        for symbol, h in sorted(risk.holdings.items()):
            caps = self.position_limits.get((code, symbol), {})
            positions.append(
                {
                    "symbol": symbol,
                    "position_lots": h.position_lots,
                    "working_buy_lots": h.working_buy_lots,
                    "working_sell_lots": h.working_sell_lots,
                    "max_long_lots": caps.get(RiskLimit.MAX_LONG_LOTS),
                    "max_short_lots": caps.get(RiskLimit.MAX_SHORT_LOTS),
                }
            )
        for (account, symbol), caps in sorted(self.position_limits.items()):
            if account == code and symbol not in risk.holdings:
                positions.append(
                    {
                        "symbol": symbol,
                        "position_lots": 0,
                        "working_buy_lots": 0,
                        "working_sell_lots": 0,
                        "max_long_lots": caps.get(RiskLimit.MAX_LONG_LOTS),
                        "max_short_lots": caps.get(RiskLimit.MAX_SHORT_LOTS),
                    }
                )
        return {
            "account": code,
            "credit_limit_micros": limits.get(RiskLimit.CREDIT_LIMIT_MICROS),
            "credit_used_micros": risk.working_notional_micros + risk.filled_notional_micros,
            "pnl_micros": self.pnl_micros(risk),
            "loss_warning_micros": limits.get(RiskLimit.LOSS_WARNING_MICROS),
            "loss_reduce_only_micros": limits.get(RiskLimit.LOSS_REDUCE_ONLY_MICROS),
            "loss_kill_micros": limits.get(RiskLimit.LOSS_KILL_MICROS),
            "loss_stage": LOSS_STAGE_NAMES[risk.loss_stage],
            "kill_switch": kill._asdict() if kill is not None else None,
            "positions": positions,
        }

    def kill_switches_view(self) -> dict[str, Any]:
        return {
            "firm": self.firm_kill._asdict() if self.firm_kill else None,
            "accounts": {a: k._asdict() for a, k in sorted(self.account_kills.items())},
            "traders": {str(u): k._asdict() for u, k in sorted(self.trader_kills.items())},
        }

    # -- snapshot and restore ---------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "firm": {str(k): v for k, v in self.firm.items()},
            "account_limits": {
                a: {str(k): v for k, v in t.items()} for a, t in self.account_limits.items()
            },
            "instrument_limits": {
                s: {str(k): v for k, v in t.items()} for s, t in self.instrument_limits.items()
            },
            "position_limits": [
                [a, s, {str(k): v for k, v in t.items()}]
                for (a, s), t in self.position_limits.items()
            ],
            "restricted": {a: sorted(s) for a, s in self.restricted.items()},
            "permitted": {a: sorted(s) for a, s in self.permitted.items()},
            "authorised": {a: sorted(u) for a, u in self.authorised.items()},
            "firm_kill": list(self.firm_kill) if self.firm_kill else None,
            "account_kills": {a: list(k) for a, k in self.account_kills.items()},
            "trader_kills": [[u, list(k)] for u, k in self.trader_kills.items()],
            "accounts": [
                [
                    r.account,
                    r.working_notional_micros,
                    r.filled_notional_micros,
                    r.credit_alerted,
                    r.loss_stage,
                    [
                        [
                            s,
                            h.position_lots,
                            h.working_buy_lots,
                            h.working_sell_lots,
                            h.cash_ticks,
                            h.open_position_lots,
                            h.open_mark_ticks,
                        ]
                        for s, h in r.holdings.items()
                    ],
                ]
                for r in self.accounts.values()
            ],
            "messages": [[u, list(t)] for u, t in self.messages.items()],
            "cancels": [[u, list(t)] for u, t in self.cancels.items()],
            "recent_orders": [[ts, list(key)] for ts, key in self.recent_order_times],
        }

    def restore(self, data: dict[str, Any]) -> None:
        def table(raw: dict[str, int]) -> dict[RiskLimit, int]:
            return {RiskLimit(k): v for k, v in raw.items()}

        self.firm = table(data["firm"])
        self._firm_changed()
        self.account_limits = {a: table(t) for a, t in data["account_limits"].items()}
        self.alert_levels = {}
        for account in self.account_limits:
            self._account_limits_changed(account)
        self.instrument_limits = {s: table(t) for s, t in data["instrument_limits"].items()}
        self.position_limits = {(a, s): table(t) for a, s, t in data["position_limits"]}
        self.restricted = {a: set(s) for a, s in data["restricted"].items()}
        self.permitted = {a: set(s) for a, s in data["permitted"].items()}
        self.authorised = {a: set(u) for a, u in data["authorised"].items()}
        self.firm_kill = Kill(*data["firm_kill"]) if data["firm_kill"] else None
        self.account_kills = {a: Kill(*k) for a, k in data["account_kills"].items()}
        self.trader_kills = {u: Kill(*k) for u, k in data["trader_kills"]}
        for code, working, filled, alerted, stage, holdings in data["accounts"]:
            risk = self.accounts[code] = AccountRisk(code, working, filled, {}, alerted, stage)
            for symbol, *figures in holdings:
                risk.holdings[symbol] = Holding(*figures)
        self.messages = {u: deque(t) for u, t in data["messages"]}
        self.cancels = {u: deque(t) for u, t in data["cancels"]}
        for ts, key in data["recent_orders"]:
            frozen = (key[0], key[1], key[2], key[3], key[4], key[5])
            self.recent_order_times.append((ts, frozen))
            self.recent_orders[frozen] = ts
        self.changed.clear()
        self.touched.clear()
