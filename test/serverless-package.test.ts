import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tempDirOnce } from "./servers.ts";

interface Resource {
  Type: string;
  Properties: Record<string, unknown> & { Policies?: { PolicyDocument: { Statement: { Action: string[]; Resource: unknown }[] } }[] };
}

/** `serverless package` (osls, offline, no AWS account) and the CloudFormation it produces. */
describe("serverless package", () => {
  let resources: Record<string, Resource>;
  let dir: string;

  beforeAll(async () => {
    dir = await tempDirOnce();
    const r = spawnSync(process.execPath, ["node_modules/serverless/bin/serverless.js", "package", "--stage", "ci", "--region", "us-east-1", "--package", dir], {
      encoding: "utf8",
      env: { ...process.env, AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", SLS_TELEMETRY_DISABLED: "1" },
      timeout: 120_000,
    });
    if (r.status !== 0) throw new Error(`serverless package failed: ${r.stdout}\n${r.stderr}`);
    resources = (JSON.parse(readFileSync(join(dir, "cloudformation-template-update-stack.json"), "utf8")) as { Resources: Record<string, Resource> }).Resources;
  }, 180_000);

  it("packages detect for Node 22 on arm64, with its schedule and its S3 trigger", () => {
    expect(resources["DetectLambdaFunction"]?.Properties).toMatchObject({ Runtime: "nodejs22.x", Architectures: ["arm64"], Handler: "functions/detect/handler.handler", Timeout: 900 });
    expect(resources["DetectEventsRuleSchedule1"]?.Properties).toMatchObject({ ScheduleExpression: "rate(5 minutes)", State: "ENABLED" });
    const bucket = resources["S3BucketData"]!.Properties as { NotificationConfiguration: { LambdaConfigurations: { Event: string; Filter: unknown }[] }; PublicAccessBlockConfiguration: unknown; BucketEncryption: unknown };
    expect(bucket.NotificationConfiguration.LambdaConfigurations).toEqual([expect.objectContaining({ Event: "s3:ObjectCreated:*", Filter: { S3Key: { Rules: [{ Name: "prefix", Value: "data/" }] } } })]);
    expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.BucketEncryption).toBeDefined();
  });

  it("packages ingest on its schedule", () => {
    expect(resources["IngestLambdaFunction"]?.Properties).toMatchObject({ Runtime: "nodejs22.x", Architectures: ["arm64"], Handler: "functions/ingest/handler.handler" });
    expect(resources["IngestEventsRuleSchedule1"]?.Properties).toMatchObject({ ScheduleExpression: "rate(5 minutes)" });
  });

  it("gives the functions' role only the actions their adapters call", () => {
    const statements = resources["IamRoleLambdaExecution"]!.Properties.Policies![0]!.PolicyDocument.Statement;
    const actions = statements.flatMap((s) => s.Action).filter((a) => !a.startsWith("logs:")).sort();
    expect(actions).toEqual(["cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "s3:GetObject", "s3:ListBucket", "s3:PutObject", "s3:PutObjectTagging"]);
    for (const s of statements) if (!s.Action.every((a) => a.startsWith("cloudwatch:"))) expect(s.Resource).not.toBe("*");
  });

  it("keeps records in one table with point-in-time recovery", () => {
    expect(resources["RecordTable"]?.Properties).toMatchObject({ BillingMode: "PAY_PER_REQUEST", PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } });
  });
});
