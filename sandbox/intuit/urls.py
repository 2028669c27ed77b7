from django.urls import path

from sandbox.intuit import api, control, pages

urlpatterns = [
    # OAuth 2.0 and OpenID Connect.
    path("intuit/.well-known/openid_configuration", api.discovery, name="intuit-discovery"),
    path("intuit/connect/oauth2", pages.authorize, name="intuit-authorize"),
    path("intuit/oauth2/v1/tokens/bearer", api.token, name="intuit-token"),
    path("intuit/v2/oauth2/tokens/revoke", api.revoke, name="intuit-revoke"),
    path("intuit/v1/openid_connect/userinfo", api.userinfo, name="intuit-userinfo"),
    path("intuit/op/v1/jwks", api.jwks, name="intuit-jwks"),
    # QuickBooks Online's sign-in, Apps tab and My Apps.
    path("qbo/", pages.home, name="quickbooks-home"),
    path("qbo/signout/", pages.sign_out, name="quickbooks-signout"),
    path("qbo/apps/", pages.apps, name="appstore-apps"),
    path("qbo/apps/myapps/", pages.my_apps, name="appstore-myapps"),
    path("qbo/apps/myapps/<slug:slug>/disconnect/", pages.disconnect, name="appstore-disconnect"),
    path("qbo/apps/<slug:slug>/", pages.app_page, name="appstore-app"),
    # Control API.
    path("_sandbox/intuit/app", control.app_registration, name="intuit-control-app"),
    path("_sandbox/intuit/companies", control.companies, name="intuit-control-companies"),
    path("_sandbox/intuit/connections", control.connections, name="intuit-control-connections"),
]
