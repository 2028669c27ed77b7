from django.urls import path

from sandbox.intuit.views import control, oauth, pages

urlpatterns = [
    path("intuit/.well-known/openid_configuration", oauth.discovery, name="intuit-discovery"),
    path("intuit/connect/oauth2", oauth.authorize, name="intuit-authorize"),
    path("intuit/oauth2/v1/tokens/bearer", oauth.token, name="intuit-token"),
    path("intuit/v2/oauth2/tokens/revoke", oauth.revoke, name="intuit-revoke"),
    path("intuit/v1/openid_connect/userinfo", oauth.userinfo, name="intuit-userinfo"),
    path("intuit/op/v1/jwks", oauth.jwks, name="intuit-jwks"),
    path("qbo/", pages.home, name="qbo-home"),
    path("qbo/signout/", pages.sign_out, name="qbo-signout"),
    path("qbo/apps/", pages.apps, name="qbo-apps"),
    path("qbo/apps/myapps/", pages.my_apps, name="qbo-myapps"),
    path("qbo/apps/myapps/<slug:slug>/disconnect/", pages.disconnect, name="qbo-disconnect"),
    path("qbo/apps/<slug:slug>/", pages.app_page, name="qbo-app"),
    path("_sandbox/intuit/app", control.app_registration, name="intuit-control-app"),
    path("_sandbox/intuit/companies", control.companies, name="intuit-control-companies"),
    path("_sandbox/intuit/connections", control.connections, name="intuit-control-connections"),
]
