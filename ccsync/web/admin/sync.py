"""The operator's view of runs, customers' outcomes and webhook events (read-only), with an
action to send failed customers again."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from ccsync.ops.quota import day_of_calls
from ccsync.sync import operations
from ccsync.sync.models import CustomerRecord, Run, WebhookEvent
from tenants.models import Tenant


class ReadOnlyAdmin(admin.ModelAdmin):
    list_select_related = ["tenant"]
    show_full_result_count = False  # a count(*) over millions of rows on every page

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "tenant",
        "kind",
        "state",
        "created_at",
        "finished_at",
        "total",
        "synced",
        "unchanged",
        "skipped",
        "failed",
        "quickbooks_calls",
        "constantcontact_calls",
    ]
    list_filter = ["kind", "state"]
    search_fields = ["tenant__realm_id", "tenant__company_name"]
    change_list_template = "admin/sync/run/change_list.html"

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):  # noqa: ANN201
        # The day of Constant Contact calls above the runs that spend them.
        return super().changelist_view(request, {**(extra_context or {}), "quota": day_of_calls()})


@admin.register(CustomerRecord)
class CustomerRecordAdmin(ReadOnlyAdmin):
    # No email or name columns in lists: personal data only on the record's own page.
    list_display = ["customer_id", "tenant", "outcome", "reason", "in_list", "synced_at"]
    list_filter = ["outcome", "reason", "in_list"]
    search_fields = ["customer_id", "tenant__realm_id"]
    exclude = ["row"]
    actions = ["retry_failed"]

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("tenants.change_tenant")

    @admin.action(description="Send the selected failed customers again", permissions=["retry"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[CustomerRecord]) -> None:
        failed = queryset.filter(outcome=CustomerRecord.Outcome.FAILED)
        by_tenant: dict[int, list[str]] = {}
        for tenant_id, customer_id in failed.values_list("tenant_id", "customer_id"):
            by_tenant.setdefault(tenant_id, []).append(customer_id)
        queued = sum(
            operations.retry_failed(tenant=tenant, customer_ids=by_tenant[tenant.pk])
            for tenant in Tenant.objects.filter(pk__in=by_tenant)
        )
        report_retry(self, request, queued=queued, failed=sum(map(len, by_tenant.values())))


def report_retry(
    model_admin: admin.ModelAdmin, request: HttpRequest, *, queued: int, failed: int
) -> None:
    """The message after a retry: how many failed customers will be sent again, and why not
    the others."""
    level = messages.SUCCESS if queued == failed else messages.WARNING
    text = f"{queued} of {failed} failed customers queued to be sent again."
    if queued < failed:
        text += " The others belong to disconnected companies."
    model_admin.message_user(request, text, level)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = [
        "event_id",
        "realm_id",
        "customer_id",
        "operation",
        "occurred_at",
        "received_at",
        "processed_at",
    ]
    list_filter = ["operation", ("processed_at", admin.EmptyFieldListFilter)]
    search_fields = ["realm_id", "customer_id", "event_id"]
