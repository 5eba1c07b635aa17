import type { Frequency } from "./frequency.ts";

/**
 * L4M's quotas on what an account may hold (its "Lookout for Metrics quotas" page): each
 * refusal names the quota it met, as ServiceQuotaExceededException's QuotaCode. A
 * deployment may configure higher ones. Measures and dimensions stay at Vigil's engine
 * limits (5 each), below L4M's 10.
 */
export interface Quotas {
  readonly detectorsPerAccount: number;
  readonly alertsPerDetector: number;
  readonly metricSetsPerDetector: number;
  readonly measuresPerMetricSet: number;
  readonly dimensionsPerMetricSet: number;
  /** Time series (measure × dimension values) one interval of a metric set may hold, by frequency. */
  readonly seriesPerMetricSet: Readonly<Record<Frequency, number>>;
  /** Bytes one interval's files may hold in all, as read (inflated when GZIP; each file counting FILE_READ_COST beside its bytes), by frequency: Vigil's, as L4M published none. */
  readonly bytesPerInterval: Readonly<Record<Frequency, number>>;
  /** Bytes a metric set's history may hold in all, as read (as `bytesPerInterval`), by frequency: what learning it at activation reads. Vigil's. */
  readonly bytesPerHistory: Readonly<Record<Frequency, number>>;
  /** Values (series × intervals) one back-test's history may hold: its aggregate is held in memory. Vigil's. */
  readonly valuesPerBackTest: number;
  /** Silences an account may hold, ended ones kept a while included (catalog.ts): every alert's routing reads them. Vigil's, as L4M had none. */
  readonly silencesPerAccount: number;
}

export type QuotaName = keyof Quotas;
/** The quotas that are one number, not one by frequency: what a count of records is held to. */
export type CountQuota = { [K in QuotaName]: Quotas[K] extends number ? K : never }[QuotaName];

const MIB = 1024 * 1024;

// About 5 KiB a series of the series quota (a row each, as CSV, is about 34 bytes): room for rows that SUM or AVERAGE aggregates, and a bound on what a GZIP that inflates without end costs one run, less for a shorter interval.
const BYTES_PER_INTERVAL = { PT1M: 8 * MIB, PT5M: 32 * MIB, PT10M: 64 * MIB, PT1H: 256 * MIB, P1D: 256 * MIB };

/**
 * A history may hold 16 intervals at the interval's byte budget: about 2,500 rows a series of
 * the series quota (105 days of hourly data, 11 of five-minute data), and at PT1H (4 GiB)
 * about half of what one function parses in its 15 minutes (29 s per 256 MiB, measured).
 */
export const historyBytesOf = (perInterval: Readonly<Record<Frequency, number>>): Record<Frequency, number> => ({
  PT1M: 16 * perInterval.PT1M,
  PT5M: 16 * perInterval.PT5M,
  PT10M: 16 * perInterval.PT10M,
  PT1H: 16 * perInterval.PT1H,
  P1D: 16 * perInterval.P1D,
});

/** A history may hold twice an interval's series quota: series come and go across it. */
export const historySeriesOf = (quotas: Pick<Quotas, "seriesPerMetricSet">, frequency: Frequency) => 2 * quotas.seriesPerMetricSet[frequency];

export const L4M_QUOTAS: Quotas = {
  detectorsPerAccount: 10,
  alertsPerDetector: 10,
  metricSetsPerDetector: 1,
  measuresPerMetricSet: 5,
  dimensionsPerMetricSet: 5,
  // PT1M is Vigil's (L4M had none): a fifth of PT5M's, as PT5M is a tenth of PT1H's for a twelfth of its interval.
  seriesPerMetricSet: { PT1M: 1_000, PT5M: 5_000, PT10M: 10_000, PT1H: 50_000, P1D: 50_000 },
  bytesPerInterval: BYTES_PER_INTERVAL,
  bytesPerHistory: historyBytesOf(BYTES_PER_INTERVAL),
  // About 200 bytes a value while a back-test runs (a million values: 204 MB peak): 2 million stay well within a 1 GB function beside its other work.
  valuesPerBackTest: 2_000_000,
  silencesPerAccount: 1_000,
};

/**
 * The code each refusal carries. AWS's own Service Quotas codes for the retired service are
 * not published anywhere Vigil can check, so these are Vigil's names for the same quotas.
 */
export const QUOTA_CODES: Readonly<Record<QuotaName, string>> = {
  detectorsPerAccount: "AnomalyDetectorsPerAccount",
  alertsPerDetector: "AlertsPerAnomalyDetector",
  metricSetsPerDetector: "MetricSetsPerAnomalyDetector",
  measuresPerMetricSet: "MeasuresPerMetricSet",
  dimensionsPerMetricSet: "DimensionsPerMetricSet",
  seriesPerMetricSet: "TimeSeriesPerMetricSet",
  bytesPerInterval: "BytesPerInterval",
  silencesPerAccount: "SilencesPerAccount",
  bytesPerHistory: "BytesPerHistory",
  valuesPerBackTest: "ValuesPerBackTest",
};
