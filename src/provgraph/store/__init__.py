"""The only layer that speaks Cypher. Every statement is a named constant with `$parameters`; labels,
relationship types and hop bounds come from fixed tables or validated integers, never from user text.

Statements that must serialise writers on a node (numbering versions, appending to a hash chain, ending
a deployment) take its write lock with `SET n._lock = true REMOVE n._lock`: Neo4j locks on the write even
though nothing is left changed, while a no-op `SET n.p = n.p` takes no lock at all (the concurrency test
caught two writers numbering the same model version that way)."""
