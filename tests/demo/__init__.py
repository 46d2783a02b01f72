"""Tests of backups/demo/."""
