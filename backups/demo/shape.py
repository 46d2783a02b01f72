"""The proportions of a generated dataset: ``DatasetShape`` and the two shapes in use."""
from dataclasses import dataclass

DEMO_PROJECT_ID = "demo-project"


@dataclass(frozen=True)
class DatasetShape:
    """The proportions of a generated dataset (see ``backups.demo``)."""

    first_project_share: float = 0.4
    volumes_per_server: tuple = (1, 3)
    history_days: tuple = (30, 60)
    servers_per_policy: tuple = (3, 8)
    replication_fraction: float = 0.10
    tie_fraction: float = 0.30
    error_fraction: float = 0.05
    manual_fraction: float = 0.03
    #: Replicas go to the last project (the disaster-recovery one); else they stay in their source
    #: project (another region), and every project holds exactly what ``allocate`` gave it.
    replicas_to_recovery_project: bool = True


DEMO_SHAPE = DatasetShape()
#: Issue 7's dataset: a whale project of 10% (100,000 of 1,000,000 items over 1,000 projects), two
#: disks per server, ~10% with a replication record, ~30% sharing created_at, ~12% NULL protected_at
#: (the fractions below were tuned to give those; test_seed_demo checks them).
BENCHMARK_SHAPE = DatasetShape(
    first_project_share=0.1,
    volumes_per_server=(2, 2),
    tie_fraction=0.33,
    error_fraction=0.126,
    replicas_to_recovery_project=False,
)
SHAPES = {"demo": DEMO_SHAPE, "benchmark": BENCHMARK_SHAPE}
