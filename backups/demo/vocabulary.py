"""The vocabularies of the synthetic world: regions, server roles, flavors, failures."""
from backups.choices import FailOp, ItemStatus, ServerImageType

RESOURCE_TYPE = "OS::Nova::Server"
FIRST_REGION = "cn-north-1"
RECOVERY_REGION = "cn-north-4"
OTHER_REGIONS = ("cn-north-1", "cn-east-2", "cn-east-3", "cn-south-1", "ap-southeast-1", "ap-southeast-3")
ROLES = (
    "web", "web", "app", "api", "db", "db", "mysql", "redis", "cache", "mq", "k8s-node", "k8s-node",
    "nginx-lb", "jenkins", "gitlab", "es", "bastion", "file", "ERP", "CRM", "财务",
)
ENVIRONMENTS = ("", "", "prod", "prod", "test", "dev", "staging")
#: (flavor, vcpus, ram MB): Huawei ECS flavor names, which backup_data.cloudservicetype carries here.
FLAVORS = (
    ("s6.small.1", 1, 1024),
    ("s6.medium.2", 1, 2048),
    ("s6.large.2", 2, 4096),
    ("s6.xlarge.2", 4, 8192),
    ("c6.2xlarge.2", 8, 16384),
    ("c6.4xlarge.2", 16, 32768),
    ("m6.2xlarge.8", 8, 65536),
)
DATA_DISK_SIZES = (50, 100, 100, 200, 500, 1024)
IMAGE_TYPES = (ServerImageType.GOLD, ServerImageType.GOLD, ServerImageType.PRIVATE, ServerImageType.MARKET)
MANUAL_NAMES = (
    "manualbk_{hex}", "manualbk_{hex}", "before-upgrade-{server}", "Pre-patch {server}",
    "migration test {hex}", "备份-{server}", "keep-forever-{server}",
)
MANUAL_DESCRIPTIONS = (
    "Manual backup before the kernel upgrade", "Requested by the application team",
    "Before migrating to the new VPC", "", None,
)
#: (fail_op, Code, Description, fail_reason): fail_code.Code is a Long in the seed.
FAILURES = {
    FailOp.BACKUP: (
        (1040100, "Snapshot creation failed",
         "Failed to create a snapshot of volume {volume}: the volume is being used by another task."),
        (1040211, "Backup timed out",
         "The backup did not finish within 24 hours and was stopped; check the backup storage's bandwidth."),
        (1040305, "Insufficient backup capacity",
         "The backup capacity of the vault is exhausted: expand the vault or delete old backups."),
        (1040407, "Server state invalid",
         "Server {server} is in the ERROR state: only ACTIVE or SHUTOFF servers can be backed up."),
        (1040512, "Storage connection failed",
         "Connection to the backup storage was reset while uploading volume {volume}; retry the backup."),
    ),
    FailOp.RESTORE: (
        (1050102, "Restore precondition failed",
         "Server {server} must be stopped before its disks can be restored from this backup."),
        (1050220, "Target volume too small",
         "Volume {volume} is smaller than the backed-up volume: expand it before restoring."),
    ),
    FailOp.DELETE: (
        (1060104, "Backup in use",
         "The backup could not be deleted: a replication task is still reading it."),
    ),
}
REPLICATION_FAILURE = (
    1070301, "Replication failed",
    "Replication to {region} failed: the destination vault does not exist or has no capacity left.",
)

#: Statuses of a backup whose data exists (a restore or a delete may fail later on it).
COMPLETED = frozenset({
    ItemStatus.AVAILABLE, ItemStatus.WAITING_RESTORE, ItemStatus.RESTORING,
    ItemStatus.WAITING_DELETE, ItemStatus.DELETING, ItemStatus.DELETED,
})
#: The status of each volume backup while its item has a given status.
VOLUME_STATUS = {
    ItemStatus.AVAILABLE: "available",
    ItemStatus.PROTECTING: "creating",
    ItemStatus.WAITING_RESTORE: "available",
    ItemStatus.RESTORING: "restoring",
    ItemStatus.WAITING_DELETE: "available",
    ItemStatus.DELETING: "deleting",
    ItemStatus.DELETED: "deleted",
}

