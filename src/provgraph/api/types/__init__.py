"""GraphQL object and input types, one module per area of the domain."""
