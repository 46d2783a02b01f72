"""A CBR upstream on loopback: ``GET /v3/{project_id}/backups`` answered from huaweicloudsdkcbr's models.

Every answer is a ``ListBackupsResponse`` of ``BackupResp`` objects (with ``BackupExtendInfo``,
``ReplicationRecordGet``, ``ImageData``), serialised by the SDK's own ``sanitize_for_serialization``:
the field set the sync maps is the real one. Paging as CBR's: ``limit`` 1–1000, ``marker`` (an id
of the list), ``offset``, ``sort=id:asc``; ``count`` is the whole list's. Authentication: a set of
valid ``X-Auth-Token`` values (``tokens``, or a callable), or AK/SK (``aksk={ak: sk}``), checked by
signing the request again with huaweicloudsdkcore's own signer and comparing.
"""
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

from huaweicloudsdkcbr.v1.model import (
    BackupExtendInfo,
    BackupResp,
    ImageData,
    ListBackupsResponse,
    ReplicationRecordGet,
    ReplicationRecordsExtraInfo,
)
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from huaweicloudsdkcore.utils.http_utils import sanitize_for_serialization

from .server import LoopbackServer

#: Timestamp forms CBR is seen to send: no offset (6 or 3 digits), an offset, Z, no fraction.
TIME_FORMS = (
    lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%f"),
    lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
    lambda t: t.astimezone(timezone(timedelta(hours=8))).isoformat(timespec="milliseconds"),
    lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ"),
)
STATUSES = ("available", "protecting", "error", "waiting_delete", "deleting", "restoring")


def backup(index, project_id="cbr-project", **overrides):
    """A ``BackupResp`` of the SDK, varied by ``index``: times in CBR's several forms, GB sizes."""
    created = datetime(2025, 3, 1, 6, 0, 0, 123456, tzinfo=timezone.utc) + timedelta(hours=7 * index)
    form = TIME_FORMS[index % len(TIME_FORMS)]
    replicated = index % 3 == 0
    fields = dict(
        id=f"cbr-{index:05d}-{'ab'[index % 2]}",
        name=f"autobk_{index:04d}",
        description=f"backup {index}" if index % 2 else "",
        status=STATUSES[index % len(STATUSES)],
        checkpoint_id=f"chk-{index:05d}",
        project_id=project_id,
        resource_id=f"server-{index % 17:03d}",
        resource_name=f"web-{index % 17:03d}",
        resource_type="OS::Nova::Server" if index % 4 else "OS::Cinder::Volume",
        resource_az="ap-southeast-1a" if index % 2 else "ap-southeast-1b",
        resource_size=40 + index % 5,
        image_type="replication" if index % 5 == 4 else "backup",
        created_at=form(created),
        updated_at=form(created + timedelta(minutes=9)),
        protected_at=form(created + timedelta(minutes=1)),
        expired_at=form(created + timedelta(days=30)) if index % 2 else None,
        vault_id=f"vault-{index % 3}",
        enterprise_project_id="0",
        provider_id="0daac4c5-6707-4851-97ba-169e36266b66",
        parent_id=None,
        incremental=index % 2 == 1,
        version=1,
        children=[],
        extend_info=BackupExtendInfo(
            auto_trigger=index % 2 == 0, bootable=True, snapshot_id=f"snap-{index:05d}", support_lld=False,
            supported_restore_mode="backup", contain_system_disk=True, encrypted=False, system_disk=False,
            is_multi_az=False,
            os_images_data=[ImageData(image_id=f"image-{index:05d}")] if index % 4 == 1 else None,
        ),
        replication_records=[
            ReplicationRecordGet(
                id=f"rep-{index:05d}", created_at=form(created + timedelta(hours=1)), status="success",
                source_backup_id=f"cbr-{index:05d}", source_checkpoint_id=f"chk-{index:05d}",
                source_project_id=project_id, source_region="ap-southeast-1",
                destination_backup_id=f"cbr-replica-{index:05d}", destination_checkpoint_id=f"chk-r-{index:05d}",
                destination_project_id="replica-project", destination_region="ap-southeast-3",
                destination_vault_id="vault-dr", vault_id=f"vault-{index % 3}",
                extra_info=ReplicationRecordsExtraInfo(progress=100, fail_code="", fail_reason="",
                                                       auto_trigger=True, destination_vault_id="vault-dr"),
            )
        ] if replicated else [],
    )
    fields.update(overrides)
    return BackupResp(**fields)


def error_body(code, message):
    return json.dumps({"error_code": code, "error_msg": message})


class CBRUpstream(LoopbackServer):
    """``with CBRUpstream({"cbr-project": [backup(i) for i in range(50)]}, tokens={"t"}) as cbr:``."""

    def __init__(self, backups_by_project, *, tokens=None, aksk=None):
        self.backups = backups_by_project
        self.tokens, self.aksk = tokens, aksk
        self.signature_checks = []  # (Authorization sent, Authorization the signer computes)
        super().__init__(self.respond)

    def respond(self, handler):
        parts = urlsplit(handler.path)
        segments = parts.path.strip("/").split("/")
        if handler.command != "GET" or len(segments) != 3 or segments[0] != "v3" or segments[2] != "backups":
            return 404, {"Content-Type": "application/json"}, error_body("CBR.0404", "no such resource")
        refusal = self.refuse(handler, parts)
        if refusal:
            return 401, {"Content-Type": "application/json"}, error_body("APIGW.0301", refusal)
        return self.list_backups(segments[1], parse_qsl(parts.query, keep_blank_values=True))

    def refuse(self, handler, parts):
        """Why the request is not authenticated, or ``None``."""
        if self.aksk is not None:
            return self.check_signature(handler, parts)
        token = handler.headers.get("X-Auth-Token")
        valid = self.tokens(token) if callable(self.tokens) else token in (self.tokens or ())
        return None if valid else "Incorrect IAM authentication information: the token is missing or invalid"

    def check_signature(self, handler, parts):
        """Sign the received request again with the official signer and compare the Authorization."""
        sent = handler.headers.get("Authorization", "")
        fields = dict(part.strip().split("=", 1) for part in sent.partition(" ")[2].split(",") if "=" in part)
        sk = self.aksk.get(fields.get("Access"))
        if not sk or "X-Sdk-Date" not in handler.headers:
            return "unknown access key, or no X-Sdk-Date"
        signed = fields.get("SignedHeaders", "").split(";")
        headers = {name: value for name, value in handler.headers.items() if name.lower() in signed}
        request = SdkRequest(
            method=handler.command, schema="http", host=handler.headers["Host"], resource_path=parts.path,
            query_params=parse_qsl(parts.query, keep_blank_values=True), header_params=headers, body=handler.body,
        )
        expected = Signer(BasicCredentials(fields["Access"], sk)).sign(request).header_params["Authorization"]
        self.signature_checks.append((sent, expected))
        return None if sent == expected else "the signature does not match"

    def list_backups(self, project_id, params):
        query = dict(params)
        backups = sorted(self.backups.get(project_id, []), key=lambda b: b.id)
        try:
            limit = int(query.get("limit", "1000"))
            offset = int(query.get("offset", "0"))
        except ValueError:
            return 400, {"Content-Type": "application/json"}, error_body("BackupService.6001", "bad limit/offset")
        if not 1 <= limit <= 1000 or query.get("sort", "id:asc") != "id:asc":
            return 400, {"Content-Type": "application/json"}, error_body("BackupService.6001", "bad limit or sort")
        start = 0
        if query.get("marker"):
            ids = [b.id for b in backups]
            if query["marker"] not in ids:
                return 400, {"Content-Type": "application/json"}, error_body("BackupService.6001", "marker not found")
            start = ids.index(query["marker"]) + 1
        page = backups[start + offset : start + offset + limit]
        answer = ListBackupsResponse(backups=page, count=len(backups), offset=offset, limit=limit)
        return 200, {"Content-Type": "application/json"}, json.dumps(sanitize_for_serialization(answer))
