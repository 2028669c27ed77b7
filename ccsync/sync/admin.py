"""The operator's view of runs, customers' outcomes and webhook events (read-only)."""

from django.contrib import admin

from ccsync.sync.models import CustomerRecord, Run, WebhookEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = ["id", "tenant", "kind", "state", "created_at", "synced", "skipped", "failed"]
    list_filter = ["kind", "state"]
    search_fields = ["tenant__realm_id", "tenant__company_name"]


@admin.register(CustomerRecord)
class CustomerRecordAdmin(ReadOnlyAdmin):
    # No email or name columns in lists: personal data only on the record's own page.
    list_display = ["customer_id", "tenant", "outcome", "reason", "in_list", "synced_at"]
    list_filter = ["outcome", "reason"]
    search_fields = ["customer_id", "tenant__realm_id"]
    exclude = ["row"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = [
        "event_id",
        "realm_id",
        "customer_id",
        "operation",
        "received_at",
        "processed_at",
    ]
    list_filter = ["operation"]
    search_fields = ["realm_id", "customer_id", "event_id"]
