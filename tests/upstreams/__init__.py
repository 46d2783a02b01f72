"""Real servers on loopback standing in for the clouds the sync talks to (never mocks of our code).

``instance`` runs a second instance of this very service (it speaks exact CSBS); ``faults`` puts a
fault-injecting proxy in front of any upstream; ``cbr`` answers CBR's list API from
``huaweicloudsdkcbr``'s own models; ``iam`` is a Keystone-shaped ``/v3/auth/tokens`` whose tokens
keystoneauth1's fixture builds. Every server binds 127.0.0.1 on a free port and stops with its
context manager.
"""
