from django.urls import include, path

urlpatterns = [
    path("", include("sandbox.control.urls")),
    path("", include("sandbox.intuit.urls")),
    path("", include("sandbox.quickbooks.urls")),
    path("", include("sandbox.constantcontact.urls")),
]
