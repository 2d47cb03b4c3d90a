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


def definition_fields(command: DefineInstrument) -> tuple[object, ...]:
    """What a definition says, without its id and time: equal fields mean nothing to send."""
    return (
        command.min_qty_lots,
        command.max_qty_lots,
        command.is_open,
        command.tick_size_micros,
        command.lot_size,
        command.reference_price_ticks,
        command.luld_tier,
        command.halted_accepts_orders,
        command.index_weight,
        command.previous_close_ticks,
        command.spike_pauses,
    )
