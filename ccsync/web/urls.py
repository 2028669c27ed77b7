"""Every URL of the app (ROOT_URLCONF). The first eight paths are registered with Intuit and
Constant Contact (Connect, Launch, Settings, Disconnect, Reconnect, the redirects, webhook,
Support): keep them stable."""

from django.contrib import admin
from django.urls import path

from ccsync.web import (
    constantcontact,
    customers,
    disconnect,
    help,
    install,
    session,
    settings,
    status,
    webhooks,
)

urlpatterns = [
    path("connect/", install.connect, name="connect"),
    path("launch/", install.launch, name="launch"),
    path("settings/", settings.settings_view, name="settings"),
    path("disconnect/", disconnect.disconnect, name="disconnect"),
    path("reconnect/", install.reconnect, name="reconnect"),
    path("auth/intuit/callback/", install.intuit_callback, name="intuit_callback"),
    path(
        "auth/constantcontact/callback/",
        constantcontact.constantcontact_callback,
        name="constantcontact_callback",
    ),
    path("webhooks/quickbooks/", webhooks.quickbooks_webhook, name="quickbooks_webhook"),
    path("help/", help.help_page, name="help"),
    path("", status.home, name="home"),
    path("status/", status.status, name="status"),
    path("sync/status.json", status.status_json, name="status_json"),
    path("sync/pause/", status.pause, name="pause"),
    path("sync/resume/", status.resume, name="resume"),
    path("sync/now/", status.sync_now, name="sync_now"),
    path("sync/customers/", customers.customers, name="customers"),
    path("sync/customers/notes/", customers.customer_notes, name="customer_notes"),
    path("sync/customers.csv", customers.customers_csv, name="customers_csv"),
    path("sync/sales/", customers.sales, name="sales"),
    path("sync/sales/<str:customer_id>/", customers.sales_customer, name="sales_customer"),
    path("settings/lists/", settings.create_list, name="create_list"),
    path(
        "constantcontact/connect/",
        constantcontact.constantcontact_connect,
        name="constantcontact_connect",
    ),
    path("disconnect/confirm/", disconnect.disconnect_confirm, name="disconnect_confirm"),
    path("disconnect/sign-in/", install.disconnect_sign_in, name="disconnect_sign_in"),
    path("disconnect/done/<str:token>/", disconnect.disconnect_done, name="disconnect_done"),
    path("companies/switch/", session.switch_tenant, name="switch_tenant"),
    path("sign-out/", session.sign_out, name="sign_out"),
    path("admin/", admin.site.urls),
]
