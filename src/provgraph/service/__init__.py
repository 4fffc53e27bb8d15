"""Use cases: validation, the rules of immutability and the registry, and the provenance questions.
Resolvers call these; these call the store."""
