"""Tests of backups/listing/."""
