"""Tests of backups/sync/: the live mirror."""
