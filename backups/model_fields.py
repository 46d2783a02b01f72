"""Model fields with behaviour that must be the same on SQLite and PostgreSQL."""
from django.db import models


class CodePointCharField(models.CharField):
    """A ``CharField`` that sorts by Unicode code point on every database (``B`` before ``a``).

    SQLite's default ``BINARY`` collation already compares UTF-8 bytes, which is code-point order.
    PostgreSQL compares with the server's locale unless the column uses the ``"C"`` collation, so
    on PostgreSQL the column (and every index on it) is created with ``COLLATE "C"``.
    """

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params
