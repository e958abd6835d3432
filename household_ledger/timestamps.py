"""Timestamps read from PostgreSQL by psycopg's C loader.

Django 5.2 attaches the connection's zone to every `timestamptz` it reads with a loader derived
from psycopg's pure-Python one, so each datetime a query returns is parsed in Python: about
3 µs a value, 2.6 ms of a 488-row calendar month's 4 ms of fetching (`python -m
bench.profile_request`). Django's fix (ticket #36960, after 5.2) wraps the optimised loader
instead; this is that fix, registered on every new connection, until the Django we pin has it.
Without psycopg's C extension `adapters.get_loader` gives the Python loader and nothing changes.
"""

from django.db.backends.signals import connection_created
from psycopg import adapt, adapters, pq
from psycopg.postgres import types

TIMESTAMPTZ_OID = types["timestamptz"].oid
# The loader psycopg itself registers: the C one when psycopg[binary] is installed.
OPTIMISED_LOADER = adapters.get_loader(TIMESTAMPTZ_OID, pq.Format.TEXT)


class ZoneTimestampLoader(adapt.Loader):
    """As Django's loader: the value in the connection's zone (`timezone`, which Django reads
    off the registered class to decide whether a cursor needs its own)."""

    timezone = None

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self._load = OPTIMISED_LOADER(oid, context).load

    def load(self, data):
        return self._load(data).replace(tzinfo=self.timezone)


def register_zone_timestamp_loader(sender, connection, **kwargs):
    loader = type("ConnectionZoneTimestampLoader", (ZoneTimestampLoader,), {})
    loader.timezone = connection.timezone
    connection.connection.adapters.register_loader(TIMESTAMPTZ_OID, loader)


def connect():
    connection_created.connect(register_zone_timestamp_loader, dispatch_uid=__name__)
