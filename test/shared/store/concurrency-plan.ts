import { T0 } from "../../builders.ts";

/** What the concurrency test's writers write, so the test can check every record against it. */
export const T_START = T0;
/** Half the leases were held and ran out before the race; half never existed. */
export const LEASES = Array.from({ length: 20 }, (_, i) => `race/${i % 2 ? "expired" : "fresh"}-${i}`);
export const EXPIRED_UNTIL = T0 + 1_000;
export const RACE_NOW = T0 + 10_000;
export const RACE_UNTIL = T0 + 3_600_000;

/** Writer `w`'s record `i`: its tenant by the writer's parity, a body of a length that varies, naming its writer throughout. */
export function expectedRecord(w: number, i: number): { id: string; value: { tenant: string; writer: number; index: number; revision: number; body: string } } {
  const tenant = w % 2 ? "team-b" : "team-a";
  const stamp = `${tenant}:${w}:${i};`;
  return { id: `${tenant}/w${w}/r${String(i).padStart(3, "0")}`, value: { tenant, writer: w, index: i, revision: 2, body: stamp.repeat(20 + ((w * 31 + i * 17) % 400)) } };
}
