import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createDetector, describeDetector, listTags, OPERATOR, tagResource, untagResource, updateDetector } from "../../../shared/app/index.ts";
import { localAt, tempDir } from "../../builders.ts";

describe("tags and updates of one resource at once", () => {
  it("lose nothing: every concurrent TagResource, UntagResource and UpdateAnomalyDetector is kept", async () => {
    const services = localAt(join(await tempDir(), "vigil"), () => Date.UTC(2021, 2, 1));
    const { AnomalyDetectorArn: arn } = await createDetector(services, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" }, Tags: { gone: "soon" } });
    await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => tagResource(services, OPERATOR, arn, { [`team${i}`]: String(i) })),
      untagResource(services, OPERATOR, arn, ["gone"]),
      updateDetector(services, OPERATOR, { AnomalyDetectorArn: arn, AnomalyDetectorDescription: "orders by marketplace" }),
    ]);
    expect(await listTags(services, OPERATOR, arn)).toEqual(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`team${i}`, String(i)])));
    expect((await describeDetector(services, OPERATOR, arn)).AnomalyDetectorDescription).toBe("orders by marketplace");
  });
});
