"""gunicorn settings: ``gunicorn project.wsgi`` reads this file; each value can be set from the environment.

GUNICORN_BIND (default 127.0.0.1:8000: loopback, a reverse proxy in front terminates TLS),
GUNICORN_WORKERS (default 2 × cores + 1), GUNICORN_TIMEOUT (seconds, default 30),
GUNICORN_ACCESS_LOG (a path, or ``-`` for stdout, the default). Each access log line ends with the
response's ``X-Request-Id``, the id the application's own log lines carry, so one request can be
followed across both. Request headers (``X-Auth-Token`` among them) are never logged.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS") or multiprocessing.cpu_count() * 2 + 1)
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = timeout
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# address "request line" status bytes duration(ms) request-id
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms %({x-request-id}o)s'
# The longest request line gunicorn takes (its default is 4094): a query with a 255-character CJK name
# and resource_name is already ~4.6 kB percent-encoded. Longer lines, and header fields over 8190
# bytes, are refused by gunicorn itself (414/431, a small HTML body) before the application.
limit_request_line = 8190

# Behind nginx with upstream keep-alive (deploy/, scripts/cluster): GUNICORN_WORKER_CLASS=gthread keeps
# idle connections open GUNICORN_KEEPALIVE seconds (sync workers close after every response).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "2"))


def on_starting(server):
    """Prometheus multiprocess mode (backups.metrics): start from an empty folder of this instance."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.remove(os.path.join(folder, name))


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

# gunicorn's control socket defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl): several
# instances on one host (deploy/systemd, scripts/cluster) each name their own.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
