"""The query string of the list and count as the API reads it: one 400 for whatever is wrong.

The reading itself is ``backups.listing.parameters.ListParameters`` (shared with the browse pages): unknown
parameters are reported first and alone; otherwise every invalid parameter is named, joined by
``; ``.
"""
from backups.listing.parameters import ListParameters

from .errors import InvalidParameter


class ListQuery(ListParameters):
    @classmethod
    def from_params(cls, params, *, validate_paging=True):
        """Validate ``params`` (a ``QueryDict``); raise ``InvalidParameter`` naming what is wrong."""
        query = cls.read(params, validate_paging=validate_paging)
        if query.unknown:
            raise InvalidParameter(query.unknown_message())
        if query.errors:
            raise InvalidParameter("; ".join(query.error_messages()))
        return query
