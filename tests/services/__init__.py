"""Tests of backups/services/."""
