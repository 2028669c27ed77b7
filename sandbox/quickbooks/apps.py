from django.apps import AppConfig


class QuickBooksConfig(AppConfig):
    name = "sandbox.quickbooks"
    label = "sandbox_quickbooks"
