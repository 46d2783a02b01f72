"""Test upstreams: real HTTP servers on 127.0.0.1 (ephemeral ports) in the shapes of UPSTREAMS.md, never mocks of our code.

``keystone`` is a Keystone v3 / IAM for the service's own token validation (``python -m
tests.upstreams.keystone`` runs it by hand); ``instance`` runs a second instance of this very
service (it speaks exact CSBS); ``faults`` puts a fault-injecting proxy in front of any upstream;
``cbr`` answers CBR's list API from ``huaweicloudsdkcbr``'s own models; ``iam`` is the
``/v3/auth/tokens`` login the sync uses, its tokens built by keystoneauth1's fixture. Every server
binds 127.0.0.1 on a free port and stops with its context manager.
"""
