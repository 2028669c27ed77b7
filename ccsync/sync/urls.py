from django.urls import path

from ccsync.sync import views

app_name = "sync"

urlpatterns = [
    # Registered with Intuit as the app's webhook endpoint: keep it stable.
    path("webhooks/quickbooks/", views.quickbooks_webhook, name="quickbooks_webhook"),
    path("sync/status.json", views.status_json, name="status_json"),
    path("sync/pause/", views.pause, name="pause"),
    path("sync/resume/", views.resume, name="resume"),
    path("sync/now/", views.sync_now, name="sync_now"),
    path("sync/customers/", views.customers, name="customers"),
    path("sync/customers.csv", views.customers_csv, name="customers_csv"),
    path("sync/sales/", views.sales, name="sales"),
]
