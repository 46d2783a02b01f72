"""Response bodies: the items' stored documents (``CheckpointItem.document``) put in their envelopes.

The item's JSON shape has one home, ``backups.document``; it is rendered when an item is written
and stored (``backups.services.documents``), so a page of 1000 items is one string join, not 1000
serializations. These are the API's "serializers": they never re-serialize a document.
"""
from django.http import HttpResponse

from backups.listing import keyset

CONTENT_TYPE = "application/json"


def _json(body, status=200):
    return HttpResponse(body, status=status, content_type=CONTENT_TYPE)


def checkpoint_items_response(request, page, next_query):
    """``{"checkpoint_items": [...]}``; a full page links to the next one (``Link: rel="next"``).

    The next link keeps the query, sets ``marker`` to the page's last id and drops ``offset``
    (the marker already positions the next page): ``next_query`` is that query but for the marker
    (``ListParameters.next_query``, read with the parameters).
    """
    # The documents are bytes (backups.api.documents): joined as they are, never decoded and re-encoded.
    response = _json(b'{"checkpoint_items":[' + b",".join(row["document"] for row in page.rows) + b"]}")
    if page.is_full:
        query = keyset.with_marker(next_query, page.last_id)
        response["Link"] = f'<{request.build_absolute_uri(request.path)}?{query}>; rel="next"'
    return response


def checkpoint_items_stream(documents, chunk_size=1000):
    """``{"checkpoint_items": [...]}`` of stored documents, in pieces, one item a line.

    For bodies too big to hold at once: the export command and the admin's export action.
    """
    yield '{"checkpoint_items": ['
    chunk, written = [], False
    for document in documents:
        chunk.append(document)
        if len(chunk) == chunk_size:
            yield ("," if written else "") + "\n" + ",\n".join(chunk)
            chunk, written = [], True
    if chunk:
        yield ("," if written else "") + "\n" + ",\n".join(chunk)
        written = True
    yield "\n]}\n" if written else "]}\n"


def checkpoint_item_response(document):
    return _json('{"checkpoint_item":' + document + "}")


def count_response(count):
    return _json('{"count":%d}' % count)
