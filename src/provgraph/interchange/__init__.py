"""Importers that turn what other tools record (Croissant, MLflow, …) into provgraph facts through the SDK."""
