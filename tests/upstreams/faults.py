"""A fault-injecting reverse proxy: in front of an upstream, it forwards every request unless a fault
queued with ``proxy.faults.add(...)`` (``tests.upstreams.server.Fault``) says otherwise."""
import http.client
from urllib.parse import urlsplit

from .server import LoopbackServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class FaultProxy(LoopbackServer):
    def __init__(self, target_url):
        self.target = urlsplit(target_url)
        super().__init__(self.forward)

    def forward(self, handler):
        connection = http.client.HTTPConnection(self.target.hostname, self.target.port, timeout=60)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP}
            connection.request(handler.command, handler.path, body=handler.body or None, headers=headers)
            response = connection.getresponse()
            body = response.read()
            headers = {k: v for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP}
            return response.status, headers, body
        finally:
            connection.close()
