from typing import Any

from django import template

from tenants import selectors

register = template.Library()


@register.inclusion_tag("session/company_switcher.html", takes_context=True)
def company_switcher(context: template.Context) -> dict[str, Any]:
    """The companies the signed-in person may switch between (accountants have several)."""
    request = context["request"]
    current = getattr(request, "tenant", None)
    return {
        "current": current,
        "companies": list(selectors.tenants_for(user=request.user)) if current else [],
        "next": request.get_full_path() if request.method == "GET" else "",
    }


@register.inclusion_tag("install/reconnect_banner.html", takes_context=True)
def reconnect_banner(context: template.Context) -> dict[str, Any]:
    """On every page of a company: the day Intuit ends its QuickBooks grant, when near."""
    tenant = getattr(context.get("request"), "tenant", None)  # none on the 500 page
    return {"expires_at": selectors.quickbooks_expiring(tenant=tenant) if tenant else None}
