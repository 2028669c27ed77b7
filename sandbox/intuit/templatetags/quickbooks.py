from django import template

from sandbox.intuit.models import Company
from sandbox.intuit.session import signed_in_company

register = template.Library()


@register.simple_tag(takes_context=True)
def current_company(context) -> Company | None:
    """The signed-in company, so every QuickBooks page's frame can show it."""
    request = context.get("request")
    return signed_in_company(request) if request is not None else None
