"""The GraphQL API and the HTTP app: strawberry types that map service results, a typed request
context with per-request DataLoaders, and the Starlette app factory that owns the driver."""
