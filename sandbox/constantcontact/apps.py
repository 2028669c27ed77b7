from django.apps import AppConfig


class ConstantContactConfig(AppConfig):
    name = "sandbox.constantcontact"
    label = "sandbox_constantcontact"

    def ready(self) -> None:
        from sandbox.constantcontact import activities
        from sandbox.control import background

        # Imports also progress while nobody is reading (reads advance them too).
        background.register("cc-activities", activities.advance, every_seconds=1.0)
