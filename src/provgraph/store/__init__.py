"""The only layer that speaks Cypher. Every statement is a named constant with `$parameters`; labels,
relationship types and hop bounds come from fixed tables or validated integers, never from user text."""
