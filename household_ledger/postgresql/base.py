"""PostgreSQL with django-prometheus's query metrics and a health check without a round trip.

Django checks a persistent connection before each request's first query (CONN_HEALTH_CHECKS)
with a `SELECT 1`: a round trip on every request, ~0.1 ms of client and server CPU. A server
that goes away — a restart, `pg_terminate_backend`, an idle timeout — sends its goodbye
(an error message, then the end of the stream) to the socket, so a connection whose socket has
nothing to read is as usable as `SELECT 1` would say; anything to read sends the check on to
`SELECT 1`, which consumes it or fails. (A silently dropped network path is caught by neither
without waiting for TCP's timeout; the statement fails and Django closes the connection.)
"""

import select

from django_prometheus.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        # poll(), not select(): select() refuses descriptors >= 1024 (FD_SETSIZE), which a busy
        # process reaches; any event (data, hang-up, error) goes on to SELECT 1.
        poller = select.poll()
        try:
            poller.register(connection.fileno(), select.POLLIN)
            events = poller.poll(0)
        except (OSError, ValueError):  # the socket itself is gone
            return False
        return not events or super().is_usable()
