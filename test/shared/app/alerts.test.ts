import { describe, expect, it } from "vitest";
import { createAlert, deleteAlert } from "../../../shared/app/index.ts";
import { listNotices } from "../../../shared/app/notices.ts";
import { resourceKey } from "../../../shared/model/ids.ts";
import { DIP, shop } from "./shop.ts";

describe("DeleteAlert", () => {
  it("deletes the alert's notification state: an alert made again under the name is told of a group it never told as its first", async () => {
    // Through the dip's first hour: both alerts told of the group.
    const s = await shop(5);
    expect(await s.services.records.list("notifications", `${resourceKey(s.sns.AlertArn)}/`)).not.toEqual([]);
    await deleteAlert(s.services, s.scope, s.sns.AlertArn);
    expect(await s.services.records.list("notifications", `${resourceKey(s.sns.AlertArn)}/`)).toEqual([]);

    const { AnomalyDetectorArn, AlertName, AlertSensitivityThreshold, Action } = s.sns;
    await createAlert(s.services, s.scope, { AnomalyDetectorArn, AlertName, AlertSensitivityThreshold, Action });
    // The group goes on: the new alert has told no one of it yet.
    await s.runTo(6);
    const notices = await listNotices(s.services, s.scope, { AnomalyGroupId: s.group.AnomalyGroupId, AlertArn: s.sns.AlertArn }, true);
    expect(notices.find((n) => n.IntervalStart === DIP[1])).toMatchObject({ Outcome: "ENQUEUED", NotifyReason: "first" });
  });
});
