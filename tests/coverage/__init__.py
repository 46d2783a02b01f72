"""Tests of backups/coverage/."""
