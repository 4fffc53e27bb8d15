"""OpenLineage ingestion: events of spec 2-0-x validated against the spec and mapped onto the graph."""
