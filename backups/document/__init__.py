"""The item's JSON shape: its keys, parsing an import, rendering for the API, export and pages, timestamps."""
