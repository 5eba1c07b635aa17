/**
 * The record port: configuration and results that are looked up by id (detectors,
 * metric sets, alerts, anomaly groups, executions). `create` is a conditional write:
 * it fails with `RecordExists` when the id is taken, so two racing writers cannot both win.
 */
export type Table = "detectors" | "metricSets" | "alerts" | "groups" | "executions" | "quality";

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
  put<T>(table: Table, id: string, value: T): Promise<void>;
  /** Records whose id starts with `prefix`, in id order. */
  list<T>(table: Table, prefix?: string): Promise<T[]>;
  delete(table: Table, id: string): Promise<void>;
}
