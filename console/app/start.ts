import { signedIn } from "./api.ts";
import { incidentKey, loadIncident } from "./incident.ts";
import { placeOf } from "./place.ts";
import { preload } from "./preload.ts";

/**
 * The console's early script: the page runs it before the console itself (index.html), with
 * the session the page came with, to start the data of the page opened. Only what that needs
 * is in it: no component, no chart.
 */
const place = placeOf();
if (signedIn() && place.page === "/incident") {
  const [detector, group] = [place.query.get("detector") ?? "", place.query.get("group") ?? ""];
  preload(incidentKey(detector, group), () => loadIncident(detector, group));
}
