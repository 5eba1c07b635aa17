/**
 * One OS process of the concurrency test (sqlite-concurrency.test.ts): `writers` concurrent
 * writers, each making its records through the local services built anew per operation
 * (as requests once did), then updating each, and racing for the same leases. Waits for "go" on stdin; prints
 * which leases each writer won, as JSON.
 */
import { createInterface } from "node:readline";
import { localServices } from "../../../shared/runtime/local.ts";
import { expectedRecord, LEASES, RACE_NOW, RACE_UNTIL, T_START } from "./concurrency-plan.ts";

const [dataDir, firstWriter, writers, perWriter] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
const records = () => localServices(dataDir, { clock: () => T_START }).records;

async function writer(w: number): Promise<string[]> {
  const won: string[] = [];
  for (let i = 0; i < perWriter; i++) {
    const { id, value } = expectedRecord(w, i);
    await records().create("detectors", id, { ...value, revision: 1 });
    if (i < LEASES.length && (await records().claim(LEASES[i]!, RACE_UNTIL, RACE_NOW))) won.push(LEASES[i]!);
    await records().put("detectors", id, value);
  }
  return won;
}

records(); // opened before the race: both processes may be the first to open the database
process.stdout.write("ready\n");
for await (const line of createInterface({ input: process.stdin })) if (line === "go") break;
const won = await Promise.all(Array.from({ length: writers }, (_, k) => writer(firstWriter + k)));
process.stdout.write(`${JSON.stringify(won.flat())}\n`);
