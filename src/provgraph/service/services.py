"""The set of use-case services one process runs, wired to one Graph."""

from __future__ import annotations

from dataclasses import dataclass

from provgraph.config import Settings
from provgraph.domain.audit import AuditKey
from provgraph.service.audit import AuditService
from provgraph.service.catalog import CatalogService
from provgraph.service.columnar import ColumnarSink
from provgraph.service.compaction import CompactionService
from provgraph.service.documents.gather import Gatherer
from provgraph.service.documents.renderers import RENDERERS
from provgraph.service.documents.service import DocumentService
from provgraph.service.erasure import ErasureService
from provgraph.service.exclusions import ExclusionService
from provgraph.service.idempotency import IdempotencyService
from provgraph.service.membership import MembershipService
from provgraph.service.openlineage.ingest import OpenLineageService
from provgraph.service.provenance import ProvenanceService
from provgraph.service.registry import RegistryService
from provgraph.service.runs import RunService
from provgraph.service.sealing import Sealer
from provgraph.service.search import SearchService
from provgraph.service.serving import ServingService
from provgraph.service.tokens import TokenService
from provgraph.store.audit import AuditStore
from provgraph.store.catalog import CatalogStore
from provgraph.store.cold import ColdTier
from provgraph.store.compaction import CompactionStore
from provgraph.store.erasure import ErasureStore
from provgraph.store.exclusions import ExclusionStore
from provgraph.store.graph import Graph
from provgraph.store.idempotency import IdempotencyStore
from provgraph.store.landing import LandingLog
from provgraph.store.ledger import Ledger, LedgerReader
from provgraph.store.lineage import LineageStore
from provgraph.store.membership import KeyFiles, MembershipStore
from provgraph.store.openlineage import OpenLineageStore
from provgraph.store.record_reach import RecordReach
from provgraph.store.registry import RegistryStore
from provgraph.store.runs import RunStore
from provgraph.store.sealing import SealStore
from provgraph.store.search import SearchStore
from provgraph.store.serving import ServingStore
from provgraph.store.tokens import TokenStore


@dataclass(frozen=True)
class Services:
    graph: Graph
    catalog: CatalogService
    runs: RunService
    registry: RegistryService
    serving: ServingService
    provenance: ProvenanceService
    tokens: TokenService
    audit: AuditService
    idempotency: IdempotencyService
    openlineage: OpenLineageService
    search: SearchService
    documents: DocumentService
    exclusions: ExclusionService
    compaction: CompactionService
    sink: ColumnarSink | None  # the columnar inference path, when PROVGRAPH_INFERENCE_SINK=columnar
    sealer: Sealer
    membership: MembershipService
    erasure: ErasureService  # opens erasure cases; `exclusions` decides, lists and receipts every case

    @classmethod
    def build(cls, graph: Graph, settings: Settings) -> Services:
        limits = settings.limits
        key = AuditKey(settings.audit_key) if settings.audit_key else None
        ledger = Ledger(key)
        catalog_store, run_store = CatalogStore(graph, ledger), RunStore(graph, ledger)
        registry_store = RegistryStore(graph, ledger, key)
        catalog, runs = CatalogService(catalog_store), RunService(run_store)
        registry = RegistryService(registry_store)
        tiers = CompactionStore(graph, ColdTier(settings.cold))
        seals = SealStore(graph, tiers, ledger)
        landing = LandingLog(settings.landing_dir)
        sealer = Sealer(seals, landing)
        lineage_store = LineageStore(graph, tiers)
        provenance = ProvenanceService(
            lineage_store, max_depth=settings.max_lineage_depth, max_page_size=limits.max_page_size
        )
        serving = ServingService(ServingStore(graph, ledger, tiers), max_batch_size=limits.max_batch_size)
        audit = AuditService(AuditStore(graph, tiers), LedgerReader(graph), key)
        case_store = ExclusionStore(graph, ledger, lineage_store)
        exclusions = ExclusionService(case_store, max_depth=settings.max_lineage_depth, key=key)
        membership = MembershipService(
            MembershipStore(graph, KeyFiles(settings.records_dir)),
            RecordReach(graph, tiers),
            lineage_store,
            max_depth=settings.max_lineage_depth,
        )
        gatherer = Gatherer(
            provenance, registry, serving, audit, exclusions, max_nodes=lineage_store.max_nodes
        )
        return cls(
            graph=graph,
            catalog=catalog,
            runs=runs,
            registry=registry,
            serving=serving,
            provenance=provenance,
            tokens=TokenService(TokenStore(graph)),
            audit=audit,
            idempotency=IdempotencyService(IdempotencyStore(graph)),
            openlineage=OpenLineageService(
                catalog,
                runs,
                registry,
                OpenLineageStore(graph, ledger),
                catalog_store,
                run_store,
                registry_store,
            ),
            search=SearchService(SearchStore(graph)),
            documents=DocumentService(gatherer, RENDERERS),
            exclusions=exclusions,
            compaction=CompactionService(tiers, settings.retention, seals=sealer),
            sink=(
                ColumnarSink(seals, landing, limits.max_batch_size)
                if settings.inference_sink == "columnar"
                else None
            ),
            sealer=sealer,
            membership=membership,
            erasure=ErasureService(ErasureStore(graph, ledger), case_store, membership),
        )
