"""Test upstreams: real HTTP servers on 127.0.0.1 (ephemeral ports) in the shapes of UPSTREAMS.md.

Each module runs one kind in a thread of the test process (tests drive and inspect it directly)
and by hand (``python -m tests.upstreams.<name>`` prints its URL and how to use it).
"""
