"""Inference rollups: how many inferences each model version served through each deployment, per hour.

Reports count these buckets instead of inference edges, so their cost grows with the hours and
deployments they cover, not with traffic. A bucket is keyed by (model version, deployment, hour of the
inferences' own time, UTC) and is updated in the transaction that logs its inferences; a retried
inference is a duplicate and counts nothing.

Answers stay exact for any `asOf`/`knownAt`: each bucket keeps the first and last valid time and the first
and last recording time of what it counts. A bucket that lies wholly before both bounds counts as its
total, one wholly after either counts nothing, and only a bucket a bound cuts through is recounted from its
inferences — an index seek over one hour of one model version's traffic (`inference_model_at`).

Hours are UTC instants with offset Z, built from epoch seconds: Neo4j orders two datetimes of the same
instant by their zone when they differ (`…10:00Z[UTC]` is not `<=` `…10:00Z`), and a bucket's hour keyed
with a named zone once left every inference at an exact hour out of its own bucket's recount.
"""

from __future__ import annotations

from typing import LiteralString

# Merge counted buckets (modelVersionId, deploymentId, hour, n, firstAt, lastAt in scope) into the rollup
# nodes, recorded at `$now`, in key order so two writers touching the same buckets lock them in one order.
_MERGE_BUCKETS: LiteralString = """
  WITH modelVersionId, deploymentId, hour, n, firstAt, lastAt,
       modelVersionId + '|' + coalesce(deploymentId, '') + '|' + toString(hour) AS key
  ORDER BY key
  MERGE (b:InferenceRollup {key: key})
  ON CREATE SET b.modelVersionId = modelVersionId, b.deploymentId = deploymentId, b.hour = hour, b.n = 0,
                b.firstAt = firstAt, b.lastAt = lastAt, b.firstRecordedAt = $now, b.lastRecordedAt = $now
  SET b.n = b.n + n,
      b.firstAt = CASE WHEN firstAt < b.firstAt THEN firstAt ELSE b.firstAt END,
      b.lastAt = CASE WHEN lastAt > b.lastAt THEN lastAt ELSE b.lastAt END,
      b.firstRecordedAt = CASE WHEN $now < b.firstRecordedAt THEN $now ELSE b.firstRecordedAt END,
      b.lastRecordedAt = CASE WHEN $now > b.lastRecordedAt THEN $now ELSE b.lastRecordedAt END
"""

_HOUR: LiteralString = "datetime.truncate('hour', datetime({epochSeconds: at.epochSeconds}))"


def maintained() -> LiteralString:
    """A subquery to append to a statement that has collected `served`: [[modelVersionId, deploymentId,
    at], ...] for the inferences this write created, with `$now` the write's recording time."""
    return (
        """
CALL (served) {
  UNWIND served AS x
  WITH x[0] AS modelVersionId, x[1] AS deploymentId, x[2] AS at
  WITH modelVersionId, deploymentId, """
        + _HOUR
        + """ AS hour,
       count(*) AS n, min(at) AS firstAt, max(at) AS lastAt
"""
        + _MERGE_BUCKETS
        + """
  RETURN count(*) AS buckets
}
"""
    )


def merged_counts(counts: LiteralString) -> LiteralString:
    """A subquery merging buckets counted outside the graph (the columnar path's seals): `counts` is an
    expression for a list of maps {modelVersionId, deploymentId, n, firstAt, lastAt}, one per (model
    version, deployment, hour); each bucket it touches is flagged as partly cold, because those inferences
    live in the cold tier only. `counts` must be a variable in scope."""
    return (
        "\nCALL ("
        + counts
        + """) {
  UNWIND """
        + counts
        + """ AS x
  WITH x.modelVersionId AS modelVersionId, x.deploymentId AS deploymentId, x.n AS n, x.firstAt AS firstAt,
       x.lastAt AS lastAt, x.firstAt AS at
  WITH modelVersionId, deploymentId, n, firstAt, lastAt, """
        + _HOUR
        + """ AS hour
"""
        + _MERGE_BUCKETS
        + """
  SET b.cold = true
  RETURN count(*) AS buckets
}
"""
    )


def counted(key: LiteralString, value: LiteralString) -> LiteralString:
    """A subquery binding `inferences`: how many inferences whose `key` ('modelVersionId' or
    'deploymentId') is the variable `value` were valid by `$asOf` and recorded by `$knownAt` — as far as
    the graph can tell — and `coldCuts`: the cut buckets some of whose inferences have moved to the cold
    tier, as [modelVersionId, deploymentId, hour], for the caller to add their cold part
    (store/compaction.py `cold_hours`)."""
    return (
        "CALL (" + value + ") {\n"
        "  OPTIONAL MATCH (b:InferenceRollup {" + key + ": " + value + "})\n"
        "  WHERE b.firstAt <= $asOf AND b.firstRecordedAt <= $knownAt\n"
        "  WITH b, b.lastAt <= $asOf AND b.lastRecordedAt <= $knownAt AS whole\n"
        "  RETURN coalesce(sum(CASE WHEN whole THEN b.n\n"
        "    ELSE COUNT { MATCH (i:Inference) WHERE i.modelVersionId = b.modelVersionId\n"
        "      AND i.at >= b.hour AND i.at < b.hour + duration('PT1H') AND i.at <= $asOf\n"
        "      AND i.recordedAt <= $knownAt AND coalesce(i.deploymentId, '') = coalesce(b.deploymentId, '') }\n"
        "  END), 0) AS inferences,\n"
        "  collect(CASE WHEN NOT whole AND b.cold THEN [b.modelVersionId, b.deploymentId, b.hour] END) AS coldCuts\n"
        "}\n"
    )


# Rebuild every bucket from the inferences themselves (the schema migration that introduced rollups, and
# a repair). Idempotent: each bucket is set to what its inferences say, never incremented.
REBUILD: LiteralString = """
MATCH (i:Inference) WHERE i.modelVersionId IS NOT NULL
WITH i.modelVersionId AS modelVersionId, i.deploymentId AS deploymentId,
     datetime.truncate('hour', datetime({epochSeconds: i.at.epochSeconds})) AS hour,
     count(*) AS n, min(i.at) AS firstAt, max(i.at) AS lastAt,
     min(i.recordedAt) AS firstRecordedAt, max(i.recordedAt) AS lastRecordedAt
CALL (modelVersionId, deploymentId, hour, n, firstAt, lastAt, firstRecordedAt, lastRecordedAt) {
  MERGE (b:InferenceRollup {key: modelVersionId + '|' + coalesce(deploymentId, '') + '|' + toString(hour)})
  SET b.modelVersionId = modelVersionId, b.deploymentId = deploymentId, b.hour = hour, b.n = n,
      b.firstAt = firstAt, b.lastAt = lastAt, b.firstRecordedAt = firstRecordedAt, b.lastRecordedAt = lastRecordedAt
} IN TRANSACTIONS OF 1000 ROWS
"""
