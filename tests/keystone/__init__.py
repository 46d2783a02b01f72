"""Tests of backups/keystone/ (Keystone tokens), against tests/upstreams/keystone.py."""
