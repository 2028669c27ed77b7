from django.urls import path

from sandbox.constantcontact import api, api_fields_tags, control, pages

OAUTH = "cc/oauth2/default/v1/"
V3 = "cc/v3/"

urlpatterns = [
    path("cc/login", pages.login, name="cc-login"),
    path("cc/signup", pages.signup, name="cc-signup"),
    path("cc/logout", pages.logout, name="cc-logout"),
    path(f"{OAUTH}authorize", pages.authorize, name="cc-authorize"),
    path(f"{OAUTH}token", api.token, name="cc-token"),
    path(f"{OAUTH}revoke", api.revoke, name="cc-revoke"),
    path("cc/account/", pages.account_home, name="cc-account"),
    path("cc/account/contacts/", pages.all_contacts_page, name="cc-contacts"),
    path("cc/account/lists/<uuid:list_id>/", pages.list_page, name="cc-list"),
    path("cc/account/contacts/<uuid:contact_id>/", pages.contact_page, name="cc-contact"),
    path(
        "cc/account/contacts/<uuid:contact_id>/unsubscribe",
        pages.unsubscribe_contact,
        name="cc-unsubscribe",
    ),
    path(f"{V3}account/summary", api.account_summary),
    path(f"{V3}contact_lists", api.contact_lists),
    path(f"{V3}contact_lists/<str:list_id>", api.contact_list),
    path(f"{V3}contacts", api.contact_collection),
    path(f"{V3}contacts/sign_up_form", api.sign_up_form),
    path(f"{V3}contacts/<str:contact_id>", api.contact),
    path(f"{V3}contact_custom_fields", api_fields_tags.custom_field_collection),
    path(f"{V3}contact_custom_fields/<str:custom_field_id>", api_fields_tags.custom_field),
    path(f"{V3}contact_tags", api_fields_tags.tag_collection),
    path(f"{V3}contact_tags/<str:tag_id>", api_fields_tags.tag),
    path(f"{V3}activities", api.activity_list),
    path(f"{V3}activities/contacts_taggings_add", api_fields_tags.contacts_taggings_add),
    path(f"{V3}activities/contacts_json_import", api.contacts_json_import),
    path(f"{V3}activities/add_list_memberships", api.add_list_memberships),
    path(f"{V3}activities/<str:activity_id>", api.activity),
    path("_sandbox/cc/accounts", control.accounts),
    path("_sandbox/cc/accounts/<str:username>/contacts", control.account_contacts),
    path("_sandbox/cc/accounts/<str:username>/unsubscribe", control.unsubscribe),
    path("_sandbox/cc/accounts/<str:username>/custom_fields", control.account_fields_and_tags),
    path("_sandbox/cc/usage", control.usage),
    path("_sandbox/cc/usage/reset", control.usage_reset),
]
