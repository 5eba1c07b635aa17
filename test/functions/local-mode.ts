import { vi } from "vitest";

/**
 * A function's module loaded afresh in the local mode over `dataDir`: handlers read their
 * settings once, at import, as Lambda's cold start does.
 */
export async function inLocalMode<M>(load: () => Promise<M>, dataDir: string): Promise<M> {
  vi.resetModules();
  vi.stubEnv("VIGIL_MODE", "local");
  vi.stubEnv("VIGIL_DATA_DIR", dataDir);
  return load();
}
