"""Tests of backups/api/."""
