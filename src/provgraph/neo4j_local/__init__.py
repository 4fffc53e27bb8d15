"""A real Neo4j Community server on this machine, without Docker: jars from Maven Central, started as a
plain JVM process with its own configuration, data and password under the project's state directory."""

from provgraph.neo4j_local.launcher import NEO4J_VERSION, LauncherError, LocalNeo4j

__all__ = ["NEO4J_VERSION", "LauncherError", "LocalNeo4j"]
