"""The live mirror: upstream CSBS and CBR list APIs walked into the inventory (README "Sync").

``models`` (sources, runs, sightings) · ``walk`` (one run: the page loop, resume, conclusions) ·
``mirror`` (what a page does, gone marking, purge) · ``ingest`` (the seam onto the import path) ·
``upstreams`` and ``cbr`` (the two list APIs, CBR's mapping) · ``http`` (timeouts, retries) ·
``auth`` (token, IAM password, AK/SK) · ``lease`` (one run per source) · ``freshness`` (pages,
admin, ``X-Data-As-Of``) · ``watch`` (``--watch``) · ``admin``.
"""
