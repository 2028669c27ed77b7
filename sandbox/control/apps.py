from django.apps import AppConfig


class ControlConfig(AppConfig):
    name = "sandbox.control"
    label = "sandbox_control"
