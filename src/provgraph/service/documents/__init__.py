"""Documents for auditors drawn from the graph: W3C PROV, AI-BOMs (SPDX 3, CycloneDX), the dossier."""
