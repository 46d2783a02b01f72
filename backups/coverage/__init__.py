"""Protection coverage: is each resource (server) backed up, and which are not — one answer, three forms.

``backups.coverage.report`` computes it (one selector, in SQL); the browse page, the API under
``/ext/v1/{project_id}/coverage`` and the CSV only render it. Decisions, stated once:

* **A resource** is a ``(project_id, resource_id)`` pair: the same resource id in two projects is
  two resources. Items without a ``resource_id`` are no resource's backups. Replicas
  (``image_type`` ``replication``) are not backups of the resource in their project: they are
  counted as the *replication* of their source backup, through its replication records.
* **Which backups count**: those created at or before ``as_of`` (default: now), with the list's
  filters (``az``, ``resource_type``, ``resource_name``, ``resource_id``) applied to the backups
  first, exactly as the list applies them — so a row's backups are the ones the list shows with
  the same filters, ``end_time=as_of`` and ``image_type=backup``. Statuses are the items' current
  ones: ``as_of`` selects backups by creation time, it cannot replay past statuses.
* **Order of a history**: newest first by ``created_at``, ties broken by ``id`` (the list's
  ``created_at:desc`` order). The *last backup* is the first of that order, of any status,
  ``deleted`` included; its name, type and AZ are the resource's "latest" ones.
* **Good backup** (``last_available_backup``): status ``available``, or ``waiting_restore`` /
  ``restoring`` — a complete backup that is being restored from is still a good backup.
* **Backup count**: every backup that counts, except ``deleted`` ones (they are history, shown on
  the timeline, but the resource no longer has them).
* **Failure streak**: the ``error`` backups counted back from the newest, up to the first backup
  of another status. Running backups (``waiting_protect``, ``protecting``) are skipped — their
  outcome is not known yet — and every other status (``available``, ``deleted``, …) ends the
  streak. ``latest_fail_reason`` is the ``fail_reason`` of the newest backup of the streak.
* **Replication**: a backup is *replicated* when one of its replication records has status
  ``success``; *pending* with a ``replicating``/``waiting_replicate`` record and no success;
  otherwise (no record, ``fail``, ``skip``) not replicated. ``last_replication`` is the newest
  replicated backup and its success record (the last one listed when there are several).
* **Categories** (a resource may be in several; ``any`` is in at least one):

  - ``unprotected``: no good backup created in ``[as_of - days, as_of]`` — none at all, or the
    newest is older. A good backup exactly ``days`` old is still covered (the bound is inclusive,
    like ``start_time``).
  - ``failing``: a failure streak of at least ``failures`` (default 3).
  - ``unreplicated``: the newest good backup is not replicated (nor pending) while the
    resource's newest replicated backup is older than it (replication stopped, or failed).
* **Order of the report**: the resources whose newest good backup is oldest first (never backed
  up successfully: first of all), then by project id and resource id (code-point order on both
  databases). Paging is ``limit``/``offset`` over that order.
* **Scope**: the project of the path (API) or of the page, or with ``all_tenants=true`` every
  project the caller may read — every project for an admin token and for staff, the member
  projects for a logged-in user, its own project for a token (one project never sees another's).
"""
