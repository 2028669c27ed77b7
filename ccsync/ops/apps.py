from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ccsync.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from ccsync.ops import checks  # noqa: F401 (registers the settings checks)
