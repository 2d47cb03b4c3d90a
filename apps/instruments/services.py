"""How an instrument's reference data reaches the matcher: as a DefineInstrument command."""

import uuid
from decimal import Decimal

from apps.instruments.models import Instrument
from apps.matching.engine import DefineInstrument

MICROS = Decimal(1_000_000)


def instrument_definition(instrument: Instrument, ts_ns: int = 0) -> DefineInstrument:
    """The command that lists `instrument` on its shard, or brings the shard's copy up to date:
    lot limits, whether it is open, its money (tick size in micros, lot size), its reference
    price and its circuit-breaker settings, all in the engine's integer units."""
    return DefineInstrument(
        command_id=uuid.uuid4().hex,
        ts_ns=ts_ns,
        symbol=instrument.symbol,
        min_qty_lots=instrument.min_qty_lots,
        max_qty_lots=instrument.max_qty_lots,
        is_open=instrument.is_active,
        tick_size_micros=int(instrument.tick_size * MICROS),
        lot_size=instrument.lot_size,
        reference_price_ticks=int(instrument.reference_price / instrument.tick_size),
        luld_tier=instrument.luld_tier,
        halted_accepts_orders=instrument.halted_accepts_orders,
        index_weight=instrument.index_weight,
        previous_close_ticks=(
            int(instrument.previous_close / instrument.tick_size)
            if instrument.previous_close is not None
            else 0
        ),
        spike_pauses=instrument.spike_pauses,
    )


# What a definition says, without its id and time; the engine's instrument keeps the same
# attributes, so one list compares a definition with what a shard already holds.
DEFINED_FIELDS = (
    "min_qty_lots",
    "max_qty_lots",
    "is_open",
    "tick_size_micros",
    "lot_size",
    "reference_price_ticks",
    "luld_tier",
    "halted_accepts_orders",
    "index_weight",
    "previous_close_ticks",
    "spike_pauses",
)


def definition_fields(definition: object) -> tuple[object, ...]:
    """The defined values of a DefineInstrument, or of the engine instrument it set up: equal
    tuples mean there is nothing to send."""
    return tuple(getattr(definition, name) for name in DEFINED_FIELDS)
