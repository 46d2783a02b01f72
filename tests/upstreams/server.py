"""A threaded HTTP server on 127.0.0.1 (a free port), and the faults a test asks it to inject."""
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Fault:
    """What to do instead of (or before) answering one request.

    ``status``: answer it with this status, ``headers`` and ``body`` instead; ``delay``: sleep that
    long first (longer than the client's timeout: a timeout); ``cut``: start a 200 answer and close
    the connection mid-body; ``reset``: close the connection without answering.
    """

    status: int | None = None
    headers: dict = field(default_factory=dict)
    body: str = ""
    delay: float = 0.0
    cut: bool = False
    reset: bool = False


def status(code, body=None, **headers):
    body = body if body is not None else json.dumps({"error": {"code": f"TEST.{code}", "message": "injected"}})
    return Fault(status=code, body=body, headers={k.replace("_", "-"): v for k, v in headers.items()})


class Faults:
    """A queue of faults, each consumed by the next request that ``matches``; thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.queue = deque()

    def add(self, *faults, when=lambda path: True):
        with self.lock:
            self.queue.extend((when, fault) for fault in faults)

    def clear(self):
        with self.lock:
            self.queue.clear()

    def take(self, path):
        with self.lock:
            for index, (when, fault) in enumerate(self.queue):
                if when(path):
                    del self.queue[index]
                    return fault
        return None

    def pending(self):
        with self.lock:
            return len(self.queue)


class Handler(BaseHTTPRequestHandler):
    """Applies the server's faults, then ``self.server.answer(self)`` -> ``(status, headers, body)``."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # quiet: the tests read ``server.requests``
        pass

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        self.server.requests.append((self.command, self.path, dict(self.headers.items())))
        self.server.bodies.append(self.body)
        fault = self.server.faults.take(self.path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.reset:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.cut:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b'{"checkpoint_items": [{"id": "')
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.status is not None:
            code, headers, body = fault.status, {"Content-Type": "application/json", **fault.headers}, fault.body
        else:
            code, headers, body = self.server.answer(self)
        payload = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class LoopbackServer(ThreadingHTTPServer):
    """Serve ``answer(handler)`` on 127.0.0.1:<free port> in a thread, with ``faults`` and ``requests``."""

    daemon_threads = True

    def __init__(self, answer):
        super().__init__(("127.0.0.1", 0), Handler)
        self.answer = answer
        self.faults = Faults()
        self.requests = []  # (method, path with query, headers), in order
        self.bodies = []
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request, client_address):
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)  # a client that gave up (a timeout) is expected

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)
