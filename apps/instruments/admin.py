from django.contrib import admin

from apps.instruments.models import Instrument


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin[Instrument]):
    list_display = (
        "symbol",
        "name",
        "tick_size",
        "lot_size",
        "reference_price",
        "luld_tier",
        "shard",
    )
