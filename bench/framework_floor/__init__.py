"""The framework floor: Django alone answering the floor's SQL, no DRF, no middleware, no token.

``gunicorn bench.framework_floor.wsgi`` (settings ``bench.framework_floor.settings``: the service's
production settings, ``project.settings``, with no middleware and the three URLs of ``views``).
Each view runs the floor's one query (``bench.floor.list_query``/``count_query``/``detail_query``,
with ``BENCH_FLOOR_BODY`` as the floor's) on Django's connection and puts the text it returns in
an ``HttpResponse``: the bodies are the floor's. Beside the floor, the same SQL behind a bare WSGI
callable with a psycopg2 connection of its own, it measures what Django's request cycle costs by
itself: the handler, the URL resolver, the request and response objects, the database wrapper
and its per-request connection handling (``CONN_MAX_AGE``, ``project.db_health``). What ours costs
beyond it is DRF, the middleware, authentication, the parameters and our own code. Like the
floor it trusts its input and checks no token: a reference, not a service.
"""
