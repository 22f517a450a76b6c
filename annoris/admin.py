"""Admin for API tokens: create one (its secret is shown once), see use, revoke."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from annoris.api import tokens
from annoris.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "scope", "prefix", "state", "created_at", "last_used_at", "expires_at")
    list_filter = ("scope", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        if obj is None:
            return ["name", "scope", "expires_at"]
        return ["name", "scope", "expires_at", "prefix", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> tuple[str, ...]:
        # A token's scope never changes after creation: revoke it and create another.
        return (*self.readonly_fields, "scope") if obj is not None else ()

    @admin.display(description="state")
    def state(self, obj: ApiToken) -> str:
        return "revoked" if obj.revoked_at else ("active" if obj.is_active else "expired")

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        secret = tokens.generate()
        obj.digest, obj.prefix = tokens.digest_of(secret), secret[:10]
        super().save_model(request, obj, form, change)
        messages.warning(
            request,
            f"The token for '{obj.name}' is {secret} - copy it now: "
            "it is not stored and will not be shown again.",
        )

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for row in queryset:
            tokens.revoke(row)
        self.message_user(request, f"Revoked {len(queryset)} token(s).", messages.SUCCESS)

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False  # revoke instead: the row records when it was used and revoked
