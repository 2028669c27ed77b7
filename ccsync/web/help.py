"""The Help page: the user guide's questions answered with the app's own rules. Linked from
every reason on our pages, from Settings, and opened by QuickBooks' My Apps "Support" link,
so anyone may read it, signed in or not."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ccsync.sync import reasons
from tenants.sales_facts import FACTS


@require_GET
def help_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "help/help.html",
        {
            "not_in_list": reasons.NOT_IN_LIST,
            "in_list_notes": reasons.IN_LIST_NOTES,
            "facts": FACTS,
            "cap": f"{settings.SYNC_CUSTOMER_CAP:,}",
            "retention_days": settings.DATA_RETENTION_AFTER_DISCONNECT_DAYS,
            "support_email": settings.SUPPORT_EMAIL,
        },
    )
