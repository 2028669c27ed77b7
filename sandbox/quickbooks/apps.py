from django.apps import AppConfig


class QuickBooksConfig(AppConfig):
    name = "sandbox.quickbooks"
    label = "sandbox_quickbooks"

    def ready(self) -> None:
        from sandbox.control import background
        from sandbox.quickbooks import webhooks

        # Often enough that a webhook leaves within a fraction of a second of the change.
        background.register("quickbooks-webhooks", webhooks.deliver_due, every_seconds=0.2)
