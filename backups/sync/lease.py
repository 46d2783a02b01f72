"""The lock that keeps two runs of one source from overlapping: a lease on the source's row.

``acquire`` is one ``UPDATE … WHERE lease is free or expired`` — atomic on SQLite and PostgreSQL
alike (PostgreSQL re-checks the condition after a concurrent update commits, so exactly one of two
racing runs updates the row). The holder renews it with every page it writes, inside the page's
transaction, so a run that lost its lease (it stalled past ``SYNC_LEASE_SECONDS`` and another run
took over) writes nothing more. A crashed run's lease simply expires.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .models import SyncSource


class LeaseLost(Exception):
    """Another run holds the source now: this one must stop writing."""


def new_owner():
    return uuid.uuid4().hex


def _expiry(now):
    return now + timedelta(seconds=settings.SYNC_LEASE_SECONDS)


def acquire(source, owner):
    """Take the lease of ``source`` for ``owner``; ``False`` if another live run holds it."""
    now = timezone.now()
    free = Q(lease_owner="") | Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True)
    taken = SyncSource.objects.filter(free, pk=source.pk).update(
        lease_owner=owner, lease_expires_at=_expiry(now)
    )
    return taken == 1


def renew(source, owner):
    """Extend the lease; raise ``LeaseLost`` if ``owner`` no longer holds it."""
    if not SyncSource.objects.filter(pk=source.pk, lease_owner=owner).update(
        lease_expires_at=_expiry(timezone.now())
    ):
        raise LeaseLost(f"source {source.name!r}: another run took the lease (this one stalled too long)")


def release(source, owner):
    SyncSource.objects.filter(pk=source.pk, lease_owner=owner).update(lease_owner="", lease_expires_at=None)


def holder(source):
    """``(owner, expires_at)`` of the current lease, or ``None``."""
    row = SyncSource.objects.filter(pk=source.pk).values_list("lease_owner", "lease_expires_at").first()
    if not row or not row[0] or (row[1] and row[1] < timezone.now()):
        return None
    return row
