"""The operator's Django admin of tenants, connections, runs, customers and events."""

from ccsync.web.admin import sync, tenants  # noqa: F401 (registers the model admins)
