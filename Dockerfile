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
COPY pyproject.toml README.md ./
COPY src ./src
COPY --from=explorer /build/src/provgraph/api/explorer_static ./src/provgraph/api/explorer_static
RUN pip install '.[fast]' && useradd --system --uid 10001 provgraph
USER provgraph

ENV PROVGRAPH_HOST=0.0.0.0 PROVGRAPH_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status == 200 else 1)"
CMD ["provgraph", "serve"]
