from django.apps import AppConfig


class IntuitConfig(AppConfig):
    name = "sandbox.intuit"
    label = "sandbox_intuit"
