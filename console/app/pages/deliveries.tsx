import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { call, callAll } from "../api.ts";
import { Failure, PageTitle, Show, Table, useLoad } from "../components/common.tsx";
import { utc } from "../format.ts";
import { href, Link, navigate, type Place } from "../router.tsx";
import type { Delivery, DeliveryStatus } from "../wire.ts";

const REASONS: Readonly<Record<string, string>> = { first: "first told", severityChanged: "more severe", grew: "spread", repeatElapsed: "still going", ended: "ended" };
const STATUS_TEXT: Readonly<Record<DeliveryStatus, string>> = { SENT: "sent", PARKED: "parked", PENDING: "pending" };

/** Deliveries as a table: when, which alert, where to, why, and what became of it; a replay button on each parked one when asked. */
export function DeliveryTable(props: { deliveries: readonly Delivery[]; label: string; empty: string; onReplay?: (d: Delivery) => void; busy?: boolean }): JSX.Element {
  if (!props.deliveries.length) return <p>{props.empty}</p>;
  return (
    <Table
      wide
      label={props.label}
      columns={["Interval (UTC)", "Alert", "To", "Why", "Status", ...(props.onReplay ? [""] : [])]}
      rows={props.deliveries.map((d) => ({
        cells: [
          <>
            {utc(Date.parse(d.IntervalStart))}
            <br />
            <Link href={href("/incident", { detector: d.AnomalyDetectorArn, group: d.AnomalyGroupId })}>incident</Link>
          </>,
          d.AlertName,
          <span class="target">
            {d.Channel ?? "?"} {d.Target ?? ""}
          </span>,
          REASONS[d.NotifyReason ?? ""] ?? d.NotifyReason ?? "",
          <span class={`delivery-${d.Status.toLowerCase()}`}>
            {STATUS_TEXT[d.Status]}
            {d.Attempts ? `, ${d.Attempts} attempt${d.Attempts === 1 ? "" : "s"}` : ""}
            {d.LastError ? `: ${d.LastError}` : ""}
          </span>,
          ...(props.onReplay
            ? [
                d.Status === "PARKED" ? (
                  <button type="button" class="secondary" disabled={props.busy} onClick={() => props.onReplay!(d)} aria-label={`Replay ${d.DeliveryId}`}>
                    Replay
                  </button>
                ) : (
                  ""
                ),
              ]
            : []),
        ],
        marked: d.Status === "PARKED",
      }))}
    />
  );
}

const STATUSES: readonly (DeliveryStatus | "")[] = ["", "PARKED", "SENT", "PENDING"];

/** Deliveries: what was sent where, what is parked, and a replay button. */
export function Deliveries(props: { place: Place }): JSX.Element {
  const status = (props.place.query.get("status") ?? "") as DeliveryStatus | "";
  const [loaded, retry] = useLoad(() => callAll("ListDeliveries", { ...(status ? { Status: status } : {}), MaxResults: 100 }, (p) => p.DeliveryList, 2000), [status]);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<string | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const replay = async (ids?: readonly string[]) => {
    setBusy(true);
    setError(undefined);
    setOutcome(undefined);
    try {
      const r = await call("ReplayDeliveries", ids ? { DeliveryIds: ids } : {});
      setOutcome(`Replayed: ${r.Retried} sent, ${r.Remaining} still parked.`);
      retry();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <PageTitle sub="The messages your alerts sent, and those parked after failing, which you can send again once the channel is fixed.">Deliveries</PageTitle>
      <form class="filters" role="search" aria-label="Filter deliveries" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="d-status">Status</label>
          <select id="d-status" value={status} onChange={(e) => navigate(href("/deliveries", e.currentTarget.value ? { status: e.currentTarget.value } : {}), { replace: true })}>
            {STATUSES.map((s) => (
              <option value={s}>{s ? STATUS_TEXT[s] : "any"}</option>
            ))}
          </select>
        </div>
        <div class="field field-action">
          <button type="button" disabled={busy} onClick={() => replay()}>
            Replay all parked
          </button>
        </div>
      </form>
      <p role="status" class="count">
        {busy ? "Replaying…" : (outcome ?? "")}
      </p>
      {error ? <Failure error={error} /> : null}
      <Show loaded={loaded} what="deliveries" retry={retry}>
        {({ items, truncated }) => (
          <>
            <p class="count">
              {items.length}
              {truncated ? "+" : ""} deliver{items.length === 1 ? "y" : "ies"}, {items.filter((d) => d.Status === "PARKED").length} parked.
            </p>
            <DeliveryTable deliveries={items} label="Deliveries, newest first" empty="No delivery yet." onReplay={(d) => replay([d.DeliveryId])} busy={busy} />
          </>
        )}
      </Show>
    </>
  );
}
