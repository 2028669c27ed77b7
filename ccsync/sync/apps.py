from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "ccsync.sync"
    label = "sync"
