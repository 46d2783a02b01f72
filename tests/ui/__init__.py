"""Tests of backups/ui/."""
