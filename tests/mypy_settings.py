"""Settings for the type checker only (pyproject's [tool.django-stubs]).

The app and the sandbox are two Django sites that run as separate processes; django-stubs
reads one settings module, so this one registers both sites' apps (their labels differ) and
mypy knows every model's manager and relations, and the sandbox's own settings.
"""

from sandbox.settings import (
    SANDBOX_APP_BASE_URL,
    SANDBOX_BACKGROUND,
    SANDBOX_CC_CLIENT_ID,
    SANDBOX_CC_CLIENT_SECRET,
    SANDBOX_INTUIT_CLIENT_ID,
    SANDBOX_INTUIT_CLIENT_SECRET,
    SANDBOX_PUBLIC_URL,
    SANDBOX_WEBHOOK_VERIFIER_TOKEN,
)
from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [
    *INSTALLED_APPS,
    "sandbox.control",
    "sandbox.intuit",
    "sandbox.quickbooks",
    "sandbox.constantcontact",
]

__all__ = [
    "SANDBOX_APP_BASE_URL",
    "SANDBOX_BACKGROUND",
    "SANDBOX_CC_CLIENT_ID",
    "SANDBOX_CC_CLIENT_SECRET",
    "SANDBOX_INTUIT_CLIENT_ID",
    "SANDBOX_INTUIT_CLIENT_SECRET",
    "SANDBOX_PUBLIC_URL",
    "SANDBOX_WEBHOOK_VERIFIER_TOKEN",
]
