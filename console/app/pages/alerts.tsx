import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { actionOf, CHANNEL_LABELS, CHANNELS, EMPTY_FORM, filtersOf, filterText, formOf, targetText, thresholdOf, type AlertForm as Form, type ChannelName } from "../alerts.ts";
import { call, callAll, mapLimited } from "../api.ts";
import { ChoiceField, Failure, FormEnd, Show, Table, useLoad } from "../components/common.tsx";
import type { AlertDetail, Detector, MetricSet } from "../wire.ts";

const TARGET_LABEL: Record<ChannelName, string> = { WEBHOOK: "URL", SLACK: "Slack webhook URL", EMAIL: "To (addresses, comma-separated)", SNS: "Topic ARN", LAMBDA: "Function ARN" };

/** What a save sends: the form's fields, with where it sends only when asked to change it. */
type Save = (fields: { form: Form; sendsTo: boolean }) => Promise<void>;

/**
 * The form an alert is made or edited with: least severity, where it sends, what it is
 * limited to. Editing keeps where it sends (and its secrets, which the server never shows)
 * unless "Change where it sends" is ticked.
 */
function AlertFormView(props: { metricSets: readonly MetricSet[]; initial?: AlertDetail; onSave: Save; onCancel?: () => void; idPrefix: string }): JSX.Element {
  const measures = [...new Set(props.metricSets.flatMap((m) => m.MetricList.map((x) => x.MetricName)))];
  const dimensions = [...new Set(props.metricSets.flatMap((m) => m.DimensionList ?? []))];
  const [form, setForm] = useState<Form>(props.initial ? formOf(props.initial) : EMPTY_FORM);
  const [changeTarget, setChangeTarget] = useState(!props.initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const id = (name: string) => `${props.idPrefix}-${name}`;
  const set = <K extends keyof Form>(key: K, value: Form[K]) => setForm((f) => ({ ...f, [key]: value }));
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      thresholdOf(form);
      await props.onSave({ form, sendsTo: changeTarget });
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  };
  const needsRole = form.channel === "SNS" || form.channel === "LAMBDA";
  return (
    <form class="alert-form filters" onSubmit={submit} aria-label={props.initial ? `Edit the alert ${props.initial.AlertName}` : "New alert"}>
      {props.initial ? null : (
        <div class="field">
          <label for={id("name")}>Name</label>
          <input id={id("name")} required maxLength={63} pattern="[a-zA-Z0-9][a-zA-Z0-9\-_]*" value={form.name} onInput={(e) => set("name", e.currentTarget.value)} />
        </div>
      )}
      <div class="field">
        <label for={id("threshold")}>Severity at least</label>
        <input id={id("threshold")} type="number" min={0} max={100} step={1} required value={form.threshold} onInput={(e) => set("threshold", e.currentTarget.value)} />
      </div>
      <div class="field field-wide">
        <label for={id("description")}>Description (optional)</label>
        <input id={id("description")} maxLength={256} value={form.description} onInput={(e) => set("description", e.currentTarget.value)} />
      </div>
      {props.initial ? (
        <div class="field field-wide">
          <label class="inline-start">
            <input type="checkbox" checked={changeTarget} onChange={(e) => setChangeTarget(e.currentTarget.checked)} /> Change where it sends (its secrets are kept otherwise)
          </label>
        </div>
      ) : null}
      {changeTarget ? (
        <>
          <div class="field">
            <label for={id("channel")}>Sends to</label>
            <select id={id("channel")} value={form.channel} onChange={(e) => set("channel", e.currentTarget.value as ChannelName)}>
              {CHANNELS.map((c) => (
                <option value={c}>{CHANNEL_LABELS[c]}</option>
              ))}
            </select>
          </div>
          <div class="field field-wide">
            <label for={id("target")}>{TARGET_LABEL[form.channel]}</label>
            <input id={id("target")} required autoComplete="off" value={form.target} onInput={(e) => set("target", e.currentTarget.value)} />
          </div>
          {form.channel === "WEBHOOK" ? (
            <div class="field">
              <label for={id("secret")}>Signing secret (optional)</label>
              <input id={id("secret")} type="password" autoComplete="new-password" value={form.secret} onInput={(e) => set("secret", e.currentTarget.value)} />
            </div>
          ) : null}
          {form.channel === "WEBHOOK" ? (
            <div class="field field-wide">
              <label for={id("headers")}>Headers (optional, a line each: Name: value; never shown again)</label>
              <textarea id={id("headers")} rows={2} autoComplete="off" spellcheck={false} value={form.headers} onInput={(e) => set("headers", e.currentTarget.value)} />
            </div>
          ) : null}
          {needsRole ? (
            <div class="field field-wide">
              <label for={id("role")}>Role ARN</label>
              <input id={id("role")} required value={form.role} onInput={(e) => set("role", e.currentTarget.value)} />
            </div>
          ) : null}
          {form.channel === "SNS" ? (
            <div class="field">
              <label for={id("format")}>Format</label>
              <select id={id("format")} value={form.snsFormat} onChange={(e) => set("snsFormat", e.currentTarget.value as Form["snsFormat"])}>
                <option value="JSON">JSON</option>
                <option value="LONG_TEXT">Long text</option>
                <option value="SHORT_TEXT">Short text</option>
              </select>
            </div>
          ) : null}
        </>
      ) : null}
      {measures.length ? (
        <fieldset class="field field-wide choices">
          <legend>Only for the measures (none: all)</legend>
          {measures.map((m) => (
            <label class="inline-start">
              <input type="checkbox" checked={form.measures.includes(m)} onChange={(e) => set("measures", e.currentTarget.checked ? [...form.measures, m] : form.measures.filter((x) => x !== m))} /> {m}
            </label>
          ))}
        </fieldset>
      ) : null}
      <ChoiceField id={id("dimension")} label="Only for the dimension" value={form.dimension} none="Any" options={dimensions} onChange={(v) => set("dimension", v)} />
      <div class="field">
        <label for={id("values")}>Values (comma-separated)</label>
        <input id={id("values")} value={form.values} disabled={!form.dimension} onInput={(e) => set("values", e.currentTarget.value)} />
      </div>
      <FormEnd submit={props.initial ? "Save" : "Create alert"} busy={busy} onCancel={props.onCancel} error={error} />
    </form>
  );
}

/** The detector's alerts: where incidents are told, made, edited and deleted here. */
export function Alerts(props: { detector: Detector; metricSets: readonly MetricSet[] }): JSX.Element {
  const arn = props.detector.AnomalyDetectorArn;
  const [loaded, retry] = useLoad(async () => {
    const { items } = await callAll("ListAlerts", { AnomalyDetectorArn: arn, MaxResults: 100 }, (p) => p.AlertSummaryList);
    return mapLimited(items, 4, async (a) => (await call("DescribeAlert", { AlertArn: a.AlertArn })).Alert);
  }, [arn]);
  const [editing, setEditing] = useState<string | undefined>();
  const [deleting, setDeleting] = useState<string | undefined>();
  const [notice, setNotice] = useState("");
  const [error, setError] = useState<Error | undefined>();
  const create: Save = async ({ form }) => {
    await call("CreateAlert", { AlertName: form.name.trim(), AnomalyDetectorArn: arn, AlertSensitivityThreshold: thresholdOf(form), Action: actionOf(form), AlertFilters: filtersOf(form), ...(form.description.trim() ? { AlertDescription: form.description } : {}) });
    setNotice(`Alert ${form.name.trim()} created: incidents of severity ${thresholdOf(form)} and above go to ${CHANNEL_LABELS[form.channel]}.`);
    retry();
  };
  const update =
    (alert: AlertDetail): Save =>
    async ({ form, sendsTo }) => {
      await call("UpdateAlert", { AlertArn: alert.AlertArn, AlertSensitivityThreshold: thresholdOf(form), ...(form.description.trim() ? { AlertDescription: form.description } : {}), AlertFilters: filtersOf(form), ...(sendsTo ? { Action: actionOf(form) } : {}) });
      setEditing(undefined);
      setNotice(`Alert ${alert.AlertName} saved.`);
      retry();
    };
  const remove = async (alert: AlertDetail) => {
    setError(undefined);
    try {
      await call("DeleteAlert", { AlertArn: alert.AlertArn });
      setDeleting(undefined);
      setNotice(`Alert ${alert.AlertName} deleted.`);
      retry();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  return (
    <section aria-labelledby="alerts">
      <h2 id="alerts">Alerts</h2>
      <p role="status" class="count">
        {notice}
      </p>
      {error ? <Failure error={error} /> : null}
      <Show loaded={loaded} what="alerts" retry={retry}>
        {(alerts) =>
          alerts.length ? (
            <Table
              wide
              label="Alerts"
              columns={["Name", "Sends to", "Severity at least", "Only for", "Status", ""]}
              rows={alerts.map((a) => ({
                cells: [
                  editing === a.AlertArn ? (
                    <>
                      {a.AlertName}
                      <AlertFormView idPrefix={`edit-${a.AlertName}`} metricSets={props.metricSets} initial={a} onSave={update(a)} onCancel={() => setEditing(undefined)} />
                    </>
                  ) : (
                    a.AlertName
                  ),
                  <span class="target">{`${CHANNEL_LABELS[a.AlertType as ChannelName] ?? a.AlertType}: ${targetText(a)}`}</span>,
                  a.AlertSensitivityThreshold,
                  filterText(a.AlertFilters),
                  a.AlertStatus,
                  deleting === a.AlertArn ? (
                    <span class="actions">
                      <button type="button" class="danger" onClick={() => remove(a)}>
                        Delete {a.AlertName}
                      </button>{" "}
                      <button type="button" class="secondary" onClick={() => setDeleting(undefined)} aria-label={`Keep the alert ${a.AlertName}`}>
                        Keep
                      </button>
                    </span>
                  ) : (
                    <span class="actions">
                      <button type="button" class="secondary" onClick={() => setEditing(a.AlertArn)} aria-label={`Edit the alert ${a.AlertName}`}>
                        Edit
                      </button>{" "}
                      <button type="button" class="secondary" onClick={() => setDeleting(a.AlertArn)} aria-label={`Delete the alert ${a.AlertName}`}>
                        Delete
                      </button>
                    </span>
                  ),
                ],
              }))}
            />
          ) : (
            <p>No alert: incidents are recorded but nobody is told.</p>
          )
        }
      </Show>
      <h3>New alert</h3>
      <AlertFormView idPrefix="new-alert" metricSets={props.metricSets} onSave={create} />
    </section>
  );
}
