"""Processes and ports of the topology: is a pid alive (a zombie is not), is it ours, is a port open."""

import contextlib
import json
import os
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path


class ClusterError(RuntimeError):
    pass


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def is_ours(pid, marker):
    try:
        return marker in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


def port_open(port):
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def wait_for_port(port, timeout, process=None, name="", log_path=None):
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if (process is not None and process.poll() is not None) or time.monotonic() > deadline:
            tail = Path(log_path).read_text(errors="replace")[-2000:] if log_path else ""
            raise ClusterError(f"{name} did not listen on 127.0.0.1:{port}:\n{tail}")
        time.sleep(0.1)


def http_get(url, headers=None, timeout=10):
    """``(status, parsed JSON body or text)``; ``(None, error)`` when nothing answered."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except OSError as error:
        return None, str(error)
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")
