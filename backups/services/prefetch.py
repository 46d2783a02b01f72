"""``Prefetch``: a generator run in a background thread, a few values ahead of its consumer."""
import queue
import threading


class Prefetch:
    """Run a generator in a background thread, at most ``depth`` values ahead of the consumer.

    Parsing and rendering (Python) then overlap the database's work on the previous batch: the
    database driver releases the GIL while it waits. An exception of the generator is raised here,
    in order, after the values it yielded before.
    """

    _END = object()

    def __init__(self, generator, depth):
        self.queue = queue.Queue(maxsize=depth)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._produce, args=(generator,), daemon=True)
        self.thread.start()

    def _produce(self, generator):
        try:
            for value in generator:
                if not self._put((value, None)):
                    return
            self._put((self._END, None))
        except BaseException as error:  # handed over to the consumer, which raises it
            self._put((None, error))

    def _put(self, entry):
        while not self.stopped.is_set():
            try:
                self.queue.put(entry, timeout=0.1)
                return True
            except queue.Full:
                pass
        return False

    def __iter__(self):
        while True:
            value, error = self.queue.get()
            if error is not None:
                raise error
            if value is self._END:
                return
            yield value

    def close(self):
        """Stop the producer (the consumer may leave early) and wait for it."""
        self.stopped.set()
        self.thread.join()
