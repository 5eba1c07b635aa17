/**
 * The record port: configuration and results that are looked up by id (detectors,
 * metric sets, alerts, anomaly groups, executions). `create` and `claim` are conditional
 * writes, so two racing writers cannot both win.
 */
export type Table = "detectors" | "metricSets" | "alerts" | "groups" | "executions" | "quality" | "leases" | "notifications" | "deliveries" | "silences" | "feedback";

export class RecordExists extends Error {
  override readonly name = "RecordExists";
  constructor(
    readonly table: Table,
    readonly id: string,
  ) {
    super(`${table}/${id} already exists`);
  }
}

export interface RecordStore {
  get<T>(table: Table, id: string): Promise<T | undefined>;
  /** Creates the record; throws RecordExists when it is there already. */
  create<T>(table: Table, id: string, value: T): Promise<void>;
  /** `expiresAt` (epoch ms): the store may drop the record after then (DynamoDB's TTL); local disk keeps it. */
  put<T>(table: Table, id: string, value: T, options?: { expiresAt?: number }): Promise<void>;
  /** Records whose id starts with `prefix`, in id order. */
  list<T>(table: Table, prefix?: string): Promise<T[]>;
  delete(table: Table, id: string): Promise<void>;
  /** Deletes every record whose id starts with `prefix`; answers how many there were. */
  deletePrefix(table: Table, prefix: string): Promise<number>;
  /**
   * Takes the lease `id` until `until` (epoch ms) when nobody holds it, or its holder's
   * lease ran out before `now`: true when taken. Two racing callers cannot both get it.
   */
  claim(id: string, until: number, now: number): Promise<boolean>;
}
