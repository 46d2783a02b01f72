from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "backups"
    verbose_name = "Backups"

    def ready(self):
        from .sync import freshness  # noqa: F401 - connects its signal receivers
