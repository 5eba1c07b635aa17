import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { call, callAll } from "../api.ts";
import { ChoiceField, Failure, FormEnd, Show, Table, useLoad } from "../components/common.tsx";
import { utc } from "../format.ts";
import { localField } from "../incidents.ts";
import type { Detector, MetricSet, Silence } from "../wire.ts";

const HOUR = 3_600_000;
const isoOf = (field: string) => new Date(Date.parse(`${field}Z`)).toISOString();

type State = "in force" | "scheduled" | "ended";
const stateOf = (s: Silence, now: number): State => (Date.parse(s.EndsAt) <= now ? "ended" : Date.parse(s.StartsAt) > now ? "scheduled" : "in force");

const matchText = (s: Silence) => [s.MetricName ? `measure ${s.MetricName}` : "", ...(s.DimensionValues ?? []).map((d) => `${d.DimensionName}=${d.DimensionValue}`)].filter(Boolean).join(", ") || "every incident";

/** The form a silence is made or edited with: reason, end, and what it mutes (a measure, a dimension value). */
function SilenceForm(props: { metricSets: readonly MetricSet[]; initial?: Silence; onSave: (fields: { Reason: string; EndsAt: string; MetricName?: string; DimensionValues?: { DimensionName: string; DimensionValue: string }[] }) => Promise<void>; onCancel?: () => void; idPrefix: string }): JSX.Element {
  const measures = [...new Set(props.metricSets.flatMap((m) => m.MetricList.map((x) => x.MetricName)))];
  const dimensions = [...new Set(props.metricSets.flatMap((m) => m.DimensionList ?? []))];
  const first = props.initial?.DimensionValues?.[0];
  const [reason, setReason] = useState(props.initial?.Reason ?? "");
  const [ends, setEnds] = useState(localField(props.initial ? Date.parse(props.initial.EndsAt) : Date.now() + 2 * HOUR));
  const [measure, setMeasure] = useState(props.initial?.MetricName ?? "");
  const [dimension, setDimension] = useState(first?.DimensionName ?? "");
  const [value, setValue] = useState(first?.DimensionValue ?? "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const id = (name: string) => `${props.idPrefix}-${name}`;
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await props.onSave({ Reason: reason, EndsAt: isoOf(ends), ...(measure ? { MetricName: measure } : {}), ...(dimension && value ? { DimensionValues: [{ DimensionName: dimension, DimensionValue: value }] } : {}) });
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="silence-form filters" onSubmit={submit} aria-label={props.initial ? "Edit the silence" : "New silence"}>
      <div class="field field-wide">
        <label for={id("reason")}>Reason</label>
        <input id={id("reason")} required maxLength={1024} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for={id("ends")}>Ends (UTC)</label>
        <input id={id("ends")} type="datetime-local" required value={ends} onInput={(e) => setEnds(e.currentTarget.value)} />
      </div>
      <ChoiceField id={id("measure")} label="Measure" value={measure} none="Any" options={measures} onChange={setMeasure} />
      <ChoiceField id={id("dimension")} label="Dimension" value={dimension} none="Any" options={dimensions} onChange={setDimension} />
      <div class="field">
        <label for={id("value")}>Dimension value</label>
        <input id={id("value")} value={value} disabled={!dimension} onInput={(e) => setValue(e.currentTarget.value)} />
      </div>
      <FormEnd submit={props.initial ? "Save" : "Create silence"} busy={busy} onCancel={props.onCancel} error={error} />
    </form>
  );
}

/** The detector's silences: made, edited and expired here (they mute its alerts' messages, never detection). */
export function Silences(props: { detector: Detector; metricSets: readonly MetricSet[] }): JSX.Element {
  const arn = props.detector.AnomalyDetectorArn;
  const [loaded, retry] = useLoad(() => callAll("ListSilences", { AnomalyDetectorArn: arn, MaxResults: 100 }, (p) => p.Silences), [arn]);
  const [editing, setEditing] = useState<string | undefined>();
  const [notice, setNotice] = useState("");
  const [error, setError] = useState<Error | undefined>();
  const create = async (fields: Parameters<Parameters<typeof SilenceForm>[0]["onSave"]>[0]) => {
    const { Silence: s } = await call("CreateSilence", { AnomalyDetectorArn: arn, ...fields });
    setNotice(`Silence created: “${s.Reason}” until ${utc(Date.parse(s.EndsAt))}.`);
    retry();
  };
  const update = (silence: Silence) => async (fields: Parameters<Parameters<typeof SilenceForm>[0]["onSave"]>[0]) => {
    const { Silence: s } = await call("UpdateSilence", { SilenceId: silence.SilenceId, ...fields });
    setEditing(undefined);
    setNotice(`Silence saved: “${s.Reason}” until ${utc(Date.parse(s.EndsAt))}.`);
    retry();
  };
  const expire = async (silence: Silence) => {
    setError(undefined);
    try {
      await call("ExpireSilence", { SilenceId: silence.SilenceId });
      setNotice(`Silence “${silence.Reason}” expired.`);
      retry();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  const now = Date.now();
  return (
    <section aria-labelledby="silences">
      <h2 id="silences">Silences</h2>
      <p class="hint">A silence mutes this detector's alerts for a while (all of them, or for a measure or dimension value); incidents are still found and recorded.</p>
      <p role="status" class="count">
        {notice}
      </p>
      {error ? <Failure error={error} /> : null}
      <Show loaded={loaded} what="silences" retry={retry}>
        {({ items }) =>
          items.length ? (
            <Table
              wide
              label="Silences, latest ending first"
              columns={["Reason", "Mutes", "From (UTC)", "Until (UTC)", "State", ""]}
              rows={items.map((s) => {
                const state = stateOf(s, now);
                return {
                  cells: [
                    editing === s.SilenceId ? <SilenceForm idPrefix={`edit-${s.SilenceId.slice(0, 8)}`} metricSets={props.metricSets} initial={s} onSave={update(s)} onCancel={() => setEditing(undefined)} /> : s.Reason,
                    matchText(s),
                    utc(Date.parse(s.StartsAt)),
                    utc(Date.parse(s.EndsAt)),
                    state,
                    state === "ended" ? (
                      ""
                    ) : (
                      <span class="actions">
                        <button type="button" class="secondary" onClick={() => setEditing(s.SilenceId)} aria-label={`Edit the silence “${s.Reason}”`}>
                          Edit
                        </button>{" "}
                        <button type="button" class="secondary" onClick={() => expire(s)} aria-label={`Expire the silence “${s.Reason}”`}>
                          Expire
                        </button>
                      </span>
                    ),
                  ],
                  marked: state === "in force",
                };
              })}
            />
          ) : (
            <p>No silence.</p>
          )
        }
      </Show>
      <h3>New silence</h3>
      <SilenceForm idPrefix="new-silence" metricSets={props.metricSets} onSave={create} />
    </section>
  );
}
