/**
 * Series keys come from a tenant's files, and the engine and the aggregate number them
 * through open-addressing tables over FNV-1a hashes, whose collisions are cheap to make.
 * A lookup that goes through more slots than this means keys chosen to collide (keys that
 * are not make tens at a million, a table at most half full): the table gives way to a Map,
 * which hashes strings with a seed of the process's own, so one file of such keys costs
 * what a Map costs, not time quadratic in its series. That holds for keys under 16,384 code
 * units, from which V8 hashes a string by its length alone: rows whose dimension values hold
 * more than MAX_SERIES_KEY_LENGTH characters are kept aside at ingestion (ingest/rows.ts).
 */
export const MAX_PROBES = 512;
