from typing import Any, TypeVar

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from apps.accounts.models import User
from apps.audit.models import EventRecord, LegalHold, RetentionCheckpoint
from apps.audit.retention import legal_hold_place, legal_hold_release

RecordT = TypeVar("RecordT", EventRecord, RetentionCheckpoint)


class ReadOnlyAdmin(admin.ModelAdmin[RecordT]):
    """Viewable by those with the view permission; nobody adds, changes or deletes here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(EventRecord)
class EventRecordAdmin(ReadOnlyAdmin[EventRecord]):
    list_display = ("shard", "seq", "ts_ns", "kind", "actor_user_id", "account", "symbol")
    # Newest first, along the primary key. Searching is the audit API's job: it has the
    # indexes and keyset pagination that millions of rows need.
    ordering = ("-id",)
    show_full_result_count = False


@admin.register(RetentionCheckpoint)
class RetentionCheckpointAdmin(ReadOnlyAdmin[RetentionCheckpoint]):
    list_display = ("shard", "seq", "hash", "ts_ns", "purged_at")


@admin.register(LegalHold)
class LegalHoldAdmin(admin.ModelAdmin[LegalHold]):
    list_display = (
        "__str__",
        "account",
        "symbol",
        "starts_at",
        "ends_at",
        "created_by",
        "created_at",
        "released_at",
    )
    list_filter = ("released_at",)
    fields = ("account", "symbol", "starts_at", "ends_at", "reason")
    actions = ("release",)

    def get_readonly_fields(self, request: HttpRequest, obj: LegalHold | None = None) -> Any:
        # A hold is placed once and then only released: what it covers never changes.
        if obj is not None:
            return (*self.fields, "created_by", "created_at", "released_at", "released_by")
        return ()

    def get_fields(self, request: HttpRequest, obj: LegalHold | None = None) -> Any:
        if obj is not None:
            return self.get_readonly_fields(request, obj)
        return self.fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Released, never deleted: the hold stays on record.
        return False

    def save_model(
        self, request: HttpRequest, obj: LegalHold, form: ModelForm[LegalHold], change: bool
    ) -> None:
        if change:
            return
        placed = legal_hold_place(
            created_by=self._user(request),
            reason=obj.reason,
            account=obj.account,
            symbol=obj.symbol,
            starts_at=obj.starts_at,
            ends_at=obj.ends_at,
        )
        obj.pk = placed.pk

    @admin.action(description="Release the selected holds", permissions=["change"])
    def release(self, request: HttpRequest, queryset: QuerySet[LegalHold]) -> None:
        released = 0
        for hold in queryset.filter(released_at__isnull=True):
            legal_hold_release(hold, released_by=self._user(request))
            released += 1
        self.message_user(request, f"Released {released} holds.", messages.SUCCESS)

    @staticmethod
    def _user(request: HttpRequest) -> User:
        assert isinstance(request.user, User)
        return request.user
