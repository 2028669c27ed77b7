from django.apps import AppConfig


class DatacareConfig(AppConfig):
    name = "ccsync.datacare"
    label = "datacare"
    verbose_name = "Data care"
