from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from apps.accounts.models import TradingAccount, User

admin.site.register(User, UserAdmin)


@admin.register(TradingAccount)
class TradingAccountAdmin(admin.ModelAdmin[TradingAccount]):
    list_display = ("code", "name", "is_active")
    filter_horizontal = ("traders",)
