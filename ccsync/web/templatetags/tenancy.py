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
