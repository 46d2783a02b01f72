"""Upstream sources of the live mirror and the record of every run.

A ``SyncSource`` names one project of one upstream list API (CSBS ``checkpoint_items`` or CBR
``backups``) and how to authenticate to it. Secrets never enter the database: a source stores the
NAMES of the environment variables that hold them (``token_env``, ``password_env``, ``sk_env``…),
read by ``backups.sync.auth`` when a run starts.

A ``SyncRun`` is one invocation of ``sync_backups`` for one source: its counters, its cursor (the
last id written, so an interrupted walk resumes there) and the upstream's error when it failed.
The source's lease columns are the lock that keeps two runs of one source from overlapping
(``backups.sync.lease``).
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from backups.choices import AuthMethod, RunStatus, SourceKind
from backups.model_fields import CodePointCharField

MAX_PAGE_SIZE = 1000  # the CSBS and CBR list APIs' largest limit
ENV_NAME = RegexValidator(r"^[A-Za-z_][A-Za-z0-9_]*$", "An environment variable's name: letters, digits, _.")
SOURCE_NAME = RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", "Letters, digits, '.', '_' and '-'.")


def _env_field(help_text):
    return models.CharField(max_length=128, blank=True, validators=[ENV_NAME], help_text=help_text)


class SyncSource(models.Model):
    """One project of one upstream list API, mirrored into the inventory."""

    name = models.CharField(max_length=64, unique=True, validators=[SOURCE_NAME])
    kind = models.CharField(max_length=8, choices=SourceKind.choices, default=SourceKind.CSBS)
    region = models.CharField(max_length=64, blank=True, help_text="e.g. ap-southeast-1")
    project_id = CodePointCharField(max_length=64, help_text="The upstream project, and the inventory's.")
    endpoint = models.URLField(
        blank=True, help_text="Empty: https://{kind}.{region}.myhuaweicloud.com (see endpoint_url)."
    )
    auth_method = models.CharField(max_length=8, choices=AuthMethod.choices, default=AuthMethod.TOKEN)
    token_env = _env_field("token: the variable holding a ready X-Auth-Token.")
    iam_endpoint = models.URLField(
        blank=True, help_text="password: Keystone v3 URL; empty: https://iam.{region}.myhuaweicloud.com/v3"
    )
    username_env = _env_field("password: the variable holding the IAM user name.")
    password_env = _env_field("password: the variable holding the IAM password.")
    domain_env = _env_field("password: the variable holding the IAM domain (account) name.")
    ak_env = _env_field("aksk: the variable holding the access key id.")
    sk_env = _env_field("aksk: the variable holding the secret access key.")
    security_token_env = _env_field("aksk, optional: the variable holding a temporary security token.")
    page_size = models.PositiveIntegerField(
        default=MAX_PAGE_SIZE, validators=[MinValueValidator(1), MaxValueValidator(MAX_PAGE_SIZE)]
    )
    enabled = models.BooleanField(default=True)
    interval = models.DurationField(default=timedelta(minutes=15), help_text="How often --watch runs it.")
    created_at = models.DateTimeField(auto_now_add=True)

    # --- state, written by the runs ------------------------------------------------------------
    data_as_of = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the last complete, successful walk started: every item was seen after it.",
    )
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    lease_owner = models.CharField(max_length=64, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["project_id"], name="sync_source_project")]

    def __str__(self):
        return self.name

    def endpoint_url(self):
        """The base URL of the list API, without a trailing slash."""
        if self.endpoint:
            return self.endpoint.rstrip("/")
        return f"https://{self.kind}.{self.region}.myhuaweicloud.com"

    def iam_url(self):
        if self.iam_endpoint:
            return self.iam_endpoint.rstrip("/")
        return (
            f"https://iam.{self.region}.myhuaweicloud.com/v3"
            if self.region
            else "https://iam.myhuaweicloud.com/v3"
        )

    def required_env(self):
        """``{field: variable name}`` that the auth method needs (all must be set)."""
        fields = {
            AuthMethod.TOKEN: ("token_env",),
            AuthMethod.PASSWORD: ("username_env", "password_env", "domain_env"),
            AuthMethod.AKSK: ("ak_env", "sk_env"),
        }[self.auth_method]
        return {field: getattr(self, field) for field in fields}

    def clean(self):
        if not self.endpoint and not self.region:
            raise ValidationError({"endpoint": "Give an endpoint, or a region to derive it from."})
        missing = [field for field, name in self.required_env().items() if not name]
        if missing:
            raise ValidationError(
                {
                    field: f"Required for auth method {self.auth_method}: the NAME of an environment variable"
                    for field in missing
                }
            )


class Sighting(models.Model):
    """When its source last listed an item, and a digest of what it listed.

    A narrow row per synced item: a walk moves ``seen_at`` here instead of rewriting the wide item
    row (and its dozen indexes), and an upstream item whose digest has not changed is not parsed,
    rendered or written again. A gone item's digest is cleared, so its return rewrites it.
    """

    item = models.OneToOneField(
        "backups.CheckpointItem", primary_key=True, on_delete=models.CASCADE, related_name="sighting"
    )
    source = models.ForeignKey(SyncSource, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField()
    digest = models.CharField(max_length=32, blank=True, help_text="BLAKE2b-128 of the upstream's item.")

    class Meta:
        indexes = [models.Index(fields=["source", "seen_at"], name="sighting_source_seen")]


class SyncRun(models.Model):
    """One run of one source: what it did, where it stopped, and why it failed."""

    source = models.ForeignKey(SyncSource, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    resumed_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The interrupted or failed run whose walk this one continued.",
    )
    walk_started_at = models.DateTimeField(help_text="When the walk began (a resumed walk keeps it).")
    cursor = models.CharField(
        max_length=128, blank=True, help_text="The last id written: the marker the walk resumes from."
    )
    complete = models.BooleanField(default=False, help_text="The walk reached the last (short) page.")
    pages = models.PositiveIntegerField(default=0)
    walk_items = models.PositiveIntegerField(
        default=0, help_text="Items the whole walk saw, resumed parts too."
    )
    items_seen = models.PositiveIntegerField(default=0)
    items_created = models.PositiveIntegerField(default=0)
    items_updated = models.PositiveIntegerField(default=0)
    items_unchanged = models.PositiveIntegerField(default=0)
    items_rejected = models.PositiveIntegerField(default=0, help_text="Items the ingest rule refused.")
    conflicts = models.PositiveIntegerField(default=0, help_text="Ids that belong to another origin.")
    items_marked_gone = models.PositiveIntegerField(default=0)
    items_purged = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)
    retries = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0, help_text="429 answers.")
    upstream_count = models.PositiveIntegerField(null=True, blank=True)
    count_mismatch = models.BooleanField(default=False)
    gone_skipped = models.CharField(max_length=255, blank=True, help_text="Why nothing was marked gone.")
    problems = models.JSONField(default=list, blank=True, help_text="The first rejected and conflicting ids.")
    error = models.TextField(blank=True, help_text="What failed, with the upstream's answer.")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["source", "-started_at"], name="sync_run_source_started")]

    def __str__(self):
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M:%S} {self.status}"

    @property
    def duration(self):
        return (self.finished_at - self.started_at) if self.finished_at else None
