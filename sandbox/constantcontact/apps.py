from django.apps import AppConfig


class ConstantContactConfig(AppConfig):
    name = "sandbox.constantcontact"
    label = "sandbox_constantcontact"
