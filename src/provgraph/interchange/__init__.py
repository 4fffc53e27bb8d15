"""Taking in what other tools already recorded.

Each importer reads its tool through that tool's own client (or validator) and writes to provgraph through
the SDK (`provgraph.client`), so it works against any deployment with a WRITER token and records that
token's name as the actor. Every write is an idempotent registration: importing the same facts again
records nothing (`created: false`).

- `provgraph.interchange.mlflow`: `provgraph import mlflow` (experiments, runs, dataset inputs, logged
  and registered models, current stages and aliases).
- `provgraph.interchange.croissant`: `provgraph import croissant` (a Croissant file's dataset version,
  its sources and split slices).
"""
