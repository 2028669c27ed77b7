"""Operators' admin: states and expiry times, never a token."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from tenants.models import (
    ConstantContactConnection,
    IntuitConnection,
    ListSelection,
    Membership,
    Tenant,
    User,
)

TOKEN_FIELDS = ("access_token_encrypted", "refresh_token_encrypted")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)
    readonly_fields = ("created_at", "last_signed_in_at")


class ListSelectionInline(admin.TabularInline):
    model = ListSelection
    extra = 0
    readonly_fields = ("list_id", "list_name", "chosen_at", "chosen_by")
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("company_name", "realm_id", "state", "paused", "installed_at", "created_at")
    list_filter = ("state", "paused")
    search_fields = ("realm_id", "company_name")
    readonly_fields = ("created_at", "installed_at", "disconnected_at")
    inlines = [MembershipInline, ListSelectionInline]


class ConnectionAdmin(admin.ModelAdmin):
    list_display = (
        "tenant",
        "state",
        "access_expires_at",
        "refresh_expires_at",
        "refreshed_at",
        "updated_at",
    )
    list_filter = ("state",)
    search_fields = ("tenant__realm_id", "tenant__company_name")
    exclude = TOKEN_FIELDS
    readonly_fields = (
        "tenant",
        "access_expires_at",
        "refresh_expires_at",
        "connected_at",
        "refreshed_at",
        "updated_at",
    )
    list_select_related = ("tenant",)

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False  # connections come from the OAuth flows only


@admin.register(IntuitConnection)
class IntuitConnectionAdmin(ConnectionAdmin):
    pass


@admin.register(ConstantContactConnection)
class ConstantContactConnectionAdmin(ConnectionAdmin):
    list_display = ("tenant", "account_name", *ConnectionAdmin.list_display[1:])
    search_fields = (*ConnectionAdmin.search_fields, "account_name", "account_id")


@admin.register(ListSelection)
class ListSelectionAdmin(admin.ModelAdmin):
    list_display = ("tenant", "list_name", "list_id", "chosen_at", "chosen_by")
    search_fields = ("tenant__realm_id", "tenant__company_name", "list_name", "list_id")
    readonly_fields = ("tenant", "list_id", "list_name", "chosen_at", "chosen_by")
    list_select_related = ("tenant", "chosen_by")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "first_name", "last_name", "intuit_sub", "is_staff")
    search_fields = (
        "username",
        "first_name",
        "last_name",
        "intuit_sub",
        "tenants__realm_id",
        "tenants__company_name",
    )
    fieldsets = (*DjangoUserAdmin.fieldsets, ("Intuit", {"fields": ("intuit_sub",)}))
    inlines = [MembershipInline]
