"""The Django admin for backup records: find an item among a million, correct it, and the API follows.

* Edits are judged by the import's rules (``backups.admin.forms``) and saved in the admin's
  transaction; after the inlines are saved the item's ``document`` is rendered again, so the API
  returns the edit. History entries name each changed field with its old and new value.
* Change lists never count a whole table (``backups.admin.paginator``), load only the columns
  they show, and list filters read indexes (``backups.admin.filters``).
* Search is one indexed lookup per term (``TermSearchMixin``): ids and IP addresses match exactly,
  other words match inside the case-folded name columns (trigram-indexed on PostgreSQL). Several
  terms must all match.

Modules: ``items`` (the item's admin), ``children`` (volume backups and replication records, inline
and on their own), ``access`` (tokens, memberships), ``search``, ``mixins`` (big change lists,
read-only JSON, history), ``forms``, ``filters``, ``paginator``.
"""
from .access import ApiTokenAdmin, ProjectMembershipAdmin
from .children import ReplicationRecordAdmin, VolumeBackupAdmin
from .items import CheckpointItemAdmin

__all__ = [
    "ApiTokenAdmin", "CheckpointItemAdmin", "ProjectMembershipAdmin", "ReplicationRecordAdmin",
    "VolumeBackupAdmin",
]
