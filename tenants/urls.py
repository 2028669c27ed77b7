from django.urls import path

from tenants import views

app_name = "tenants"

# The first six paths are registered with Intuit and Constant Contact: keep them stable.
urlpatterns = [
    path("connect/", views.connect, name="connect"),
    path("launch/", views.launch, name="launch"),
    path("settings/", views.settings_view, name="settings"),
    path("disconnect/", views.disconnect, name="disconnect"),
    path("auth/intuit/callback/", views.intuit_callback, name="intuit_callback"),
    path(
        "auth/constantcontact/callback/",
        views.constantcontact_callback,
        name="constantcontact_callback",
    ),
    path("", views.home, name="home"),
    path("status/", views.status, name="status"),
    path("settings/lists/", views.create_list, name="create_list"),
    path("constantcontact/connect/", views.constantcontact_connect, name="constantcontact_connect"),
    path("disconnect/confirm/", views.disconnect_confirm, name="disconnect_confirm"),
    path("companies/switch/", views.switch_tenant, name="switch_tenant"),
    path("sign-out/", views.sign_out, name="sign_out"),
]
