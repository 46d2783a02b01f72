"""Every vocabulary of the CSBS item, in one place: models, filters, admin and pages use these."""
from django.db import models


class ItemStatus(models.TextChoices):
    WAITING_PROTECT = "waiting_protect", "Waiting to protect"
    PROTECTING = "protecting", "Protecting"
    AVAILABLE = "available", "Available"
    WAITING_RESTORE = "waiting_restore", "Waiting to restore"
    RESTORING = "restoring", "Restoring"
    ERROR = "error", "Error"
    WAITING_DELETE = "waiting_delete", "Waiting to delete"
    DELETING = "deleting", "Deleting"
    DELETED = "deleted", "Deleted"


#: Statuses of a backup whose work is still under way (shown with their progress).
RUNNING_STATUSES = frozenset(
    {
        ItemStatus.WAITING_PROTECT,
        ItemStatus.PROTECTING,
        ItemStatus.WAITING_RESTORE,
        ItemStatus.RESTORING,
        ItemStatus.WAITING_DELETE,
        ItemStatus.DELETING,
    }
)


class FailOp(models.TextChoices):
    """``extend_info.fail_op``: the operation that failed; CSBS writes ``""`` when none did."""

    NONE = "", "None"
    BACKUP = "backup", "Backup"
    RESTORE = "restore", "Restore"
    DELETE = "delete", "Delete"


class ImageType(models.TextChoices):
    """``extend_info.image_type``: a backup, or a replica of one in another region."""

    BACKUP = "backup", "Backup"
    REPLICATION = "replication", "Replication"


class VolumeImageType(models.TextChoices):
    """``volume_backups[].image_type``: the seed knows one value."""

    BACKUP = "backup", "Backup"


class SupportedRestoreMode(models.TextChoices):
    NA = "na", "Not restorable"
    SNAPSHOT = "snapshot", "Snapshot (full-server image)"
    BACKUP = "backup", "Backup (restore from disk backups)"


class ServerImageType(models.TextChoices):
    """``backup_data.imagetype``; CSBS writes ``""`` when unknown (the seed's own sample does)."""

    NONE = "", "Unknown"
    GOLD = "gold", "Public image"
    PRIVATE = "private", "Private image"
    MARKET = "market", "Marketplace image"


class ReplicationStatus(models.TextChoices):
    REPLICATING = "replicating", "Replicating"
    SUCCESS = "success", "Success"
    FAIL = "fail", "Fail"
    SKIP = "skip", "Skip"
    WAITING_REPLICATE = "waiting_replicate", "Waiting to replicate"


class VolumeServiceType(models.TextChoices):
    """``volume_backups[].source_volume_service_type``."""

    EVS = "EVS", "EVS"
    DSS = "DSS", "DSS"


# --- the live mirror (backups.sync) ------------------------------------------------------------


class SourceKind(models.TextChoices):
    """The upstream list API a sync source walks."""

    CSBS = "csbs", "CSBS checkpoint items (GET /v1/{project_id}/checkpoint_items)"
    CBR = "cbr", "CBR backups (GET /v3/{project_id}/backups)"


class AuthMethod(models.TextChoices):
    """How a sync source authenticates to its upstream (its secrets stay in the environment)."""

    TOKEN = "token", "X-Auth-Token from an environment variable"
    PASSWORD = "password", "IAM password login (Keystone v3, project-scoped)"
    AKSK = "aksk", "AK/SK request signing"


class RunStatus(models.TextChoices):
    """The outcome of one sync run."""

    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    INTERRUPTED = "interrupted", "Interrupted"
