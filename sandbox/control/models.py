from django.db import models


class KnobSettings(models.Model):
    """The one row of knob values: the sandbox's dials for tests, the demo and benchmarks."""

    values = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"knobs ({len(self.values)} changed)"
