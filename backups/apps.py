from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "backups"
    verbose_name = "Backups"

    def ready(self):
        from django.conf import settings

        if settings.METRICS_ENABLED:  # count and time every SQL statement (backups.metrics)
            from django.db.backends.signals import connection_created

            from .metrics import instrument_connection

            connection_created.connect(instrument_connection, dispatch_uid="backups.metrics")
