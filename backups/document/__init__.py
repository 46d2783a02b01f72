"""The item's JSON shape, both ways: one table of keys drives parsing and rendering.

``kinds`` (value types: ``String``, ``Timestamp``...), ``keys`` (the key tables of each section),
``parse`` (the ingest rule: ``parse_item``, ``parse_section``, ``ItemInvalid``), ``render``
(``render_item``, ``render_parsed``), ``jsontext`` (``dumps``, ``loads_exact``), ``timestamps``.
"""
