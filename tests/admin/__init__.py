"""Tests of backups/admin/."""
