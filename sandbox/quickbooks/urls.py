from django.urls import path

from sandbox.quickbooks import api, control, control_sales, pages

app_name = "quickbooks"

API = "quickbooks/v3/company/<str:realm_id>/"
CONTROL = "_sandbox/quickbooks/<str:realm_id>/customers"
TRANSACTIONS = "_sandbox/quickbooks/<str:realm_id>/transactions/<str:transaction_id>"

urlpatterns = [
    # The Accounting API.
    path(f"{API}query", api.query, name="query"),
    path(f"{API}customer/<str:customer_id>", api.read_customer, name="read"),
    path(f"{API}cdc", api.cdc, name="cdc"),
    path(f"{API}reports/<str:name>", api.report, name="report"),
    path(f"{API}companyinfo/<str:company_id>", api.company_info, name="companyinfo"),
    path(f"{API}<str:entity>/<str:entity_id>", api.read_entity, name="read-entity"),
    # The Customers page; a customer's page under QuickBooks Online's own address too.
    path("app/customerdetail", pages.customer_detail, name="customer-detail"),
    path("qbo/customers/", pages.customer_list, name="customers"),
    path("qbo/customers/new/", pages.customer_new, name="customer-new"),
    path("qbo/customers/<str:customer_id>/", pages.customer_edit, name="customer"),
    path(
        "qbo/customers/<str:customer_id>/<str:action>/",
        pages.customer_action,
        name="customer-action",
    ),
    # Control API.
    path("_sandbox/quickbooks/webhooks", control.webhooks, name="control-webhooks"),
    path("_sandbox/quickbooks/<str:realm_id>/seed", control.seed, name="control-seed"),
    path(CONTROL, control.customers, name="control-customers"),
    path(
        "_sandbox/quickbooks/<str:realm_id>/customer-types",
        control_sales.customer_types,
        name="control-customer-types",
    ),
    path(f"{CONTROL}/<str:customer_id>/sales", control_sales.customer_sales),
    path("_sandbox/quickbooks/<str:realm_id>/sales", control_sales.sales_without_customer),
    path(
        "_sandbox/quickbooks/<str:realm_id>/preferences",
        control_sales.preferences,
        name="control-preferences",
    ),
    path(f"{TRANSACTIONS}/pay", control_sales.pay),
    path(f"{TRANSACTIONS}/void", control_sales.void),
    path(f"{TRANSACTIONS}/delete", control_sales.delete),
    path(f"{CONTROL}/batch", control.update_many, name="control-update-many"),
    path(f"{CONTROL}/<str:customer_id>", control.update, name="control-update"),
    path(f"{CONTROL}/<str:customer_id>/deactivate", control.deactivate),
    path(f"{CONTROL}/<str:customer_id>/reactivate", control.reactivate),
    path(f"{CONTROL}/<str:customer_id>/delete", control.delete),
    path(f"{CONTROL}/<str:customer_id>/merge-into/<str:into_id>", control.merge),
]
