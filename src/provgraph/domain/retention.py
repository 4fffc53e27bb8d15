"""How long inferences are kept, and where: the retention policy the service enforces and reports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from provgraph.domain.errors import InvalidArgument

# The EU AI Act (Art. 19(1), Art. 26(6)) asks providers and deployers of high-risk systems to keep their
# automatically generated logs for at least six months; 183 days is six months of any calendar.
MIN_COLD_DAYS = 183


@dataclass(frozen=True)
class ColdLocation:
    """Where the cold tier lives: a warehouse (`file:///…` or `s3://bucket/prefix`), its catalog (a
    SQLAlchemy URL) and file-system properties (`s3.endpoint`, `s3.access-key-id`, … as pyiceberg names
    them)."""

    warehouse: str
    catalog_uri: str
    properties: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def local(cls, directory: str) -> ColdLocation:
        return cls(warehouse=f"file://{directory}", catalog_uri=f"sqlite:///{directory}/catalog.db")


@dataclass(frozen=True)
class RetentionPolicy:
    """Inferences stay graph nodes for `hot_days`, then move to the cold tier; cold rows are deleted after
    `cold_days` (None: never), which may not be less than `min_cold_days`."""

    hot_days: int = 30
    cold_days: int | None = None
    min_cold_days: int = MIN_COLD_DAYS

    def __post_init__(self) -> None:
        if self.hot_days < 0:
            raise InvalidArgument("the hot window is 0 or more days", field="hotDays")
        if self.min_cold_days < MIN_COLD_DAYS:
            raise InvalidArgument(
                f"the minimum retention may not be under {MIN_COLD_DAYS} days", field="minColdDays"
            )
        if self.cold_days is not None and self.cold_days < self.min_cold_days:
            raise InvalidArgument(
                f"inferences are kept at least {self.min_cold_days} days; a retention of {self.cold_days} "
                "days would delete them sooner",
                field="coldDays",
            )

    def hot_cutoff(self, now: datetime) -> datetime:
        """Inferences before this instant belong in the cold tier."""
        return now - timedelta(days=self.hot_days)

    def delete_before(self, now: datetime) -> datetime | None:
        """Cold rows before this instant may be deleted (None: keep everything)."""
        if self.cold_days is None:
            return None
        return now - timedelta(days=max(self.cold_days, self.min_cold_days))


@dataclass(frozen=True)
class TierReach:
    """What one tier holds: how many inferences, from when to when, and how many bytes."""

    inferences: int
    oldest: datetime | None
    newest: datetime | None
    bytes: int | None


@dataclass(frozen=True)
class RetentionReport:
    """What an auditor can cite: the policy, how far back each tier reaches now, and the last runs."""

    policy: RetentionPolicy
    now: datetime
    hot: TierReach
    cold: TierReach
    compacted_before: datetime | None  # every inference before this has left the graph
    deleted_before: datetime | None  # cold rows before this have been deleted under the policy
    cold_location: str
    cold_snapshot: int | None
