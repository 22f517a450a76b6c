"""Connected apps in the admin: per user, what each may do, when it was last used; Revoke."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from annoris.oauth.config import SCOPES
from annoris.oauth.connections import connection_revoke
from annoris.oauth.models import Connection
from annoris.oauth.views import may_authorize


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("connected", "Connected"), ("revoked", "Revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Connection]) -> QuerySet[Connection]:
        if self.value() == "connected":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ("client", "user", "scopes", "created_at", "last_used_at", "status")
    list_filter = (StatusFilter, "user")
    list_select_related = ("application", "user")
    fields = ("client", "user", "scopes_in_words", "resource", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    @admin.display(description="app", ordering="application__name")
    def client(self, obj: Connection) -> str:
        return obj.application.name or obj.application.client_id

    @admin.display(description="scopes")
    def scopes(self, obj: Connection) -> str:
        return ", ".join(obj.scope.split())  # the change page spells them out

    @admin.display(description="may")
    def scopes_in_words(self, obj: Connection) -> str:
        return "; ".join(SCOPES.get(scope, scope) for scope in obj.scope.split())

    @admin.display(description="status", ordering="revoked_at")
    def status(self, obj: Connection) -> str:
        return "revoked" if obj.revoked_at else "connected"

    @admin.action(description="Revoke the selected connected apps")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Connection]) -> None:
        count = 0
        for connection in queryset.live():
            connection_revoke(connection=connection)
            count += 1
        self.message_user(request, f"Revoked {count} connected app(s).", messages.SUCCESS)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Connection]:
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(user=request.user)

    # Whoever may connect an app sees (and revokes) their own connections, without a model
    # permission; the queryset above keeps everyone else's out of reach.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) or may_authorize(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) or may_authorize(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
