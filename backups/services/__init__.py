"""Writes: bulk upsert by id, the import and export of CSBS JSON files."""
