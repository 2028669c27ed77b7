"""Operators' admin: states and expiry times, never a token."""

from typing import ClassVar

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.html import format_html_join

from ccsync.sync import operations
from ccsync.sync import services as sync_services
from ccsync.sync.models import CustomerRecord
from ccsync.web.admin.sync import report_retry
from tenants.models import (
    ConstantContactConnection,
    ListSelection,
    Membership,
    QuickBooksConnection,
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
    readonly_fields = ("created_at", "installed_at", "disconnected_at", "sync_records")
    inlines = [MembershipInline, ListSelectionInline]
    actions = ["resync", "retry_failed"]

    @admin.display(description="Sync")
    def sync_records(self, tenant: Tenant) -> str:
        """Links to this tenant's runs, customers' outcomes and webhook events."""
        if tenant.pk is None:
            return "-"
        links = [
            (reverse(f"admin:sync_{name}_changelist"), tenant.pk, label)
            for name, label in (
                ("run", "Runs"),
                ("customerrecord", "Customers"),
                ("webhookevent", "Webhook events"),
            )
        ]
        return format_html_join(" | ", '<a href="{}?tenant__id__exact={}">{}</a>', links)

    def has_delete_permission(self, request: HttpRequest, obj: Tenant | None = None) -> bool:
        # Deleting here would leave live grants and people behind: `erase_company` does it right.
        return False

    @admin.action(description="Resync: start a full sync", permissions=["change"])
    def resync(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        started = [tenant for tenant in queryset if sync_services.sync_now(tenant=tenant)]
        companies = f"{len(started)} compan{pluralize(len(started), 'y,ies')}"
        self.message_user(request, f"{companies} syncing.", messages.SUCCESS)
        if skipped := queryset.count() - len(started):
            self.message_user(
                request, f"{skipped} not synced: paused or disconnected.", messages.WARNING
            )

    @admin.action(description="Send failed customers again", permissions=["change"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        failed = CustomerRecord.objects.filter(
            tenant__in=queryset, outcome=CustomerRecord.Outcome.FAILED
        ).count()
        queued = sum(operations.retry_failed(tenant=tenant) for tenant in queryset)
        report_retry(self, request, queued=queued, failed=failed)


class ConnectionAdmin(admin.ModelAdmin):
    # Open tuples: ConstantContactConnectionAdmin adds its account's columns.
    list_display: tuple[str, ...] = (
        "tenant",
        "state",
        "access_expires_at",
        "refresh_expires_at",
        "refreshed_at",
        "updated_at",
    )
    list_filter = ("state",)
    search_fields: ClassVar[tuple[str, ...]] = ("tenant__realm_id", "tenant__company_name")
    exclude = TOKEN_FIELDS
    readonly_fields: ClassVar[tuple[str, ...]] = (
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


@admin.register(QuickBooksConnection)
class QuickBooksConnectionAdmin(ConnectionAdmin):
    # When Intuit ends the grant (five years), and the date its people were warned of.
    list_display = (*ConnectionAdmin.list_display, "hard_expires_at")
    readonly_fields = (*ConnectionAdmin.readonly_fields, "hard_expires_at", "expiry_warned_for")


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
    fieldsets = (*(DjangoUserAdmin.fieldsets or ()), ("Intuit", {"fields": ("intuit_sub",)}))
    inlines = [MembershipInline]
