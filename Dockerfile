# The provgraph API. Neo4j runs separately (see docker-compose.yml, or point NEO4J_URI at a cluster/Aura).

# The explorer's pages and assets, built from explorer/ into the Python package (as `make install` does).
FROM node:20-slim AS explorer
WORKDIR /build/explorer
COPY explorer/package.json explorer/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY explorer ./
RUN mkdir -p /build/src/provgraph/api && npm run build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
# The dossier: Graphviz draws its lineage picture, WeasyPrint (through Pango) writes its PDF.
RUN apt-get update \
 && apt-get install -y --no-install-recommends graphviz libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
# requirements.lock pins every dependency (make lock), so the image gets the versions the tests passed with.
COPY pyproject.toml README.md requirements.lock ./
COPY src ./src
COPY --from=explorer /build/src/provgraph/api/explorer_static ./src/provgraph/api/explorer_static
# The state directory holds the cold tier and the landing log; mount a volume there (docker-compose.yml does).
RUN pip install -c requirements.lock '.[fast]' && useradd --system --uid 10001 provgraph \
 && install -d -o provgraph /var/lib/provgraph
USER provgraph

ENV PROVGRAPH_HOST=0.0.0.0 PROVGRAPH_PORT=8000 PROVGRAPH_STATE_DIR=/var/lib/provgraph
EXPOSE 8000
# Healthy once ready to serve: Neo4j answers, the schema is migrated, the query plans are warm (/readyz).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status != 200)"
CMD ["provgraph", "serve"]
