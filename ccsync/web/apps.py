from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "ccsync.web"
    label = "web"
    verbose_name = "Web"
