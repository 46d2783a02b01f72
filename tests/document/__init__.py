"""Tests of backups/document/."""
