from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "backups"
    verbose_name = "Backups"

    def ready(self):
        from django.core.signals import request_started

        from project.db_health import close_broken_connections

        # Django's SELECT 1 health check is off for PostgreSQL (settings): this one needs no round trip.
        request_started.connect(close_broken_connections, dispatch_uid="backups.close_broken_connections")

        from django.conf import settings

        if settings.METRICS_ENABLED:  # count and time every SQL statement (backups.metrics)
            from django.db.backends.signals import connection_created

            from .metrics import instrument_connection

            connection_created.connect(instrument_connection, dispatch_uid="backups.metrics")

        from .sync import freshness  # noqa: F401 - connects its signal receivers
