"""provgraph: provenance for machine learning, recorded as a time-aware graph in Neo4j."""

__version__ = "0.1.0"
