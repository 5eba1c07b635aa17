/** A series key: one dimension combination as one string (the key of maps, models and shards). */
export const SERIES_KEY_SEPARATOR = "\u001f";
/** How a key written as JSON begins: no joined key does (none of its values is empty or holds the separator). */
const JSON_KEY = SERIES_KEY_SEPARATOR + SERIES_KEY_SEPARATOR;

/**
 * Key of one dimension combination: its values joined by U+001F. A combination with a value
 * that holds U+001F (or is empty) is keyed by two separators and its values in JSON, which
 * writes U+001F as an escape: joined, ["a␟b", "c"] and ["a", "b␟c"] would be one series. So
 * no two combinations share a key, and every key gives its values back (`dimensionsOfKey`).
 */
export function seriesKeyOf(dimensions: readonly string[]): string {
  for (const value of dimensions) if (value === "" || value.includes(SERIES_KEY_SEPARATOR)) return JSON_KEY + JSON.stringify(dimensions);
  return dimensions.join(SERIES_KEY_SEPARATOR);
}

/** The dimension values a series key was made of (`seriesKeyOf`). */
export function dimensionsOfKey(key: string): string[] {
  if (key === "") return [];
  return key.startsWith(JSON_KEY) ? (JSON.parse(key.slice(JSON_KEY.length)) as string[]) : key.split(SERIES_KEY_SEPARATOR);
}
