from django.urls import path

from tenants.views import constantcontact, disconnect, quickbooks, session, settings, status

app_name = "tenants"

# The first six paths are registered with Intuit and Constant Contact: keep them stable.
urlpatterns = [
    path("connect/", quickbooks.connect, name="connect"),
    path("launch/", quickbooks.launch, name="launch"),
    path("settings/", settings.settings_view, name="settings"),
    path("disconnect/", disconnect.disconnect, name="disconnect"),
    path("auth/intuit/callback/", quickbooks.intuit_callback, name="intuit_callback"),
    path(
        "auth/constantcontact/callback/",
        constantcontact.constantcontact_callback,
        name="constantcontact_callback",
    ),
    path("", status.home, name="home"),
    path("status/", status.status, name="status"),
    path("settings/lists/", settings.create_list, name="create_list"),
    path(
        "constantcontact/connect/",
        constantcontact.constantcontact_connect,
        name="constantcontact_connect",
    ),
    path("disconnect/confirm/", disconnect.disconnect_confirm, name="disconnect_confirm"),
    path("companies/switch/", session.switch_tenant, name="switch_tenant"),
    path("sign-out/", session.sign_out, name="sign_out"),
]
