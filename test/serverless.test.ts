import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";

interface Statement {
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource: unknown;
}

interface ServerlessFile {
  provider: { runtime: string; architecture: string };
  functions: Record<string, { handler: string; events?: unknown[]; iamRoleStatements?: Statement[] }>;
  resources: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
}

/** CloudFormation's short tags (!Ref, !GetAtt) read as plain values. */
const customTags = ["Ref", "GetAtt", "Sub"].map((tag) => ({ tag: `!${tag}`, resolve: (value: string) => ({ [tag]: value }) }));
const config = parse(readFileSync("serverless.yml", "utf8"), { customTags }) as ServerlessFile;

describe("serverless.yml", () => {
  it("targets Lambda's current Node runtime on arm64", () => {
    expect(config.provider).toMatchObject({ runtime: "nodejs22.x", architecture: "arm64" });
  });

  it.each(Object.entries(config.functions))("function %s has a handler that exists and exports it", async (name, fn) => {
    const [file, exported] = [fn.handler.slice(0, fn.handler.lastIndexOf(".")), fn.handler.slice(fn.handler.lastIndexOf(".") + 1)];
    expect(file).toBe(`functions/${name}/handler`);
    expect(existsSync(`${file}.ts`)).toBe(true);
    expect(fn.events?.length).toBeGreaterThan(0);
    const source = readFileSync(`${file}.ts`, "utf8");
    expect(source).toMatch(new RegExp(`export const ${exported}\\b`));
  });

  it("keeps records in one on-demand table with point-in-time recovery, keyed as the adapter expects", async () => {
    const { recordTableDefinition } = await import("../shared/store/dynamo-records.ts");
    const table = config.resources.Resources["RecordTable"]!;
    const expected = recordTableDefinition("x");
    expect(table.Type).toBe("AWS::DynamoDB::Table");
    expect(table.Properties).toMatchObject({ BillingMode: "PAY_PER_REQUEST", KeySchema: expected.KeySchema, AttributeDefinitions: expected.AttributeDefinitions, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } });
  });

  it.each([
    ["detect", ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "s3:DeleteObject", "s3:GetObject", "s3:ListBucket", "s3:PutObject", "s3:PutObjectTagging", "sns:Publish", "sqs:SendMessage", "sts:AssumeRole"]],
    ["shard", ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "s3:DeleteObject", "s3:GetObject", "s3:ListBucket", "s3:PutObject", "s3:PutObjectTagging", "sns:Publish", "sqs:SendMessage"]],
    ["shardParked", ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "s3:DeleteObject", "s3:GetObject", "s3:ListBucket"]],
    ["ingest", ["dynamodb:Query", "s3:PutObject", "sts:AssumeRole"]],
    ["api", ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:Query", "s3:DeleteObject", "s3:GetObject", "s3:ListBucket", "s3:PutObject", "s3:PutObjectTagging", "secretsmanager:GetSecretValue", "ssm:GetParameter", "sts:AssumeRole"]],
    ["alert", ["dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "sqs:SendMessage"]],
    ["deliver", ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "secretsmanager:GetSecretValue", "ssm:GetParameter", "sts:AssumeRole"]],
    ["deliveryParked", ["dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:PutItem"]],
  ])("gives %s a role of its own with only the actions it calls, on Vigil's resources or the account's", (name, expected) => {
    const statements = config.functions[name]!.iamRoleStatements!.filter((s) => s.Effect === "Allow");
    expect(statements.flatMap((s) => s.Action).sort()).toEqual(expected);
    for (const s of statements) {
      if (s.Action.every((a) => a.startsWith("cloudwatch:"))) continue; // no resource-level permissions exist for these
      // A tenant's bucket is read, and its alerts' SNS and Lambda actions sent, as the role it names, in the tenant's account.
      if (s.Action.join() === "sts:AssumeRole") {
        expect(JSON.stringify(s.Resource)).toMatch(/:iam::\*:role\/\*"/);
        continue;
      }
      expect(s.Resource).not.toBe("*");
      expect(JSON.stringify(s.Resource)).toMatch(/custom\.dataBucket|RecordTable|AnomalyGroupTopic|DeliveryQueue|ShardQueue|DeliveryDeadLetterQueue|AWS::AccountId\}:(\*|function:\*|secret:vigil\/\*|parameter\/vigil\/\*)"/);
    }
  });

  it.each(["deliver", "api"])("lets %s, which sends the SNS and Lambda actions alerts name, publish and invoke nothing itself: it assumes the action's RoleArn", (name) => {
    const statements = config.functions[name]!.iamRoleStatements!;
    expect(statements.filter((s) => s.Action.some((a) => /^(sns|lambda):/.test(a)))).toEqual([]);
    expect(statements.filter((s) => s.Action.includes("sts:AssumeRole"))).toEqual([{ Effect: "Allow", Action: ["sts:AssumeRole"], Resource: { Sub: "arn:${AWS::Partition}:iam::*:role/*" } }]);
    for (const fn of Object.values(config.functions)) expect(fn).not.toHaveProperty("name");
  });

  it("puts a dead-letter queue behind each queue, with an alarm on its depth", () => {
    const r = config.resources.Resources;
    for (const [queue, dlq, alarm] of [
      ["AlertQueue", "AlertDeadLetterQueue", "AlertDeadLetterAlarm"],
      ["DeliveryQueue", "DeliveryDeadLetterQueue", "DeliveryDeadLetterAlarm"],
    ] as const) {
      expect(r[queue]!.Properties).toMatchObject({ RedrivePolicy: { deadLetterTargetArn: { GetAtt: `${dlq}.Arn` }, maxReceiveCount: 5 } });
      expect(r[alarm]!.Properties).toMatchObject({ Namespace: "AWS/SQS", MetricName: "ApproximateNumberOfMessagesVisible", Dimensions: [{ Name: "QueueName", Value: { GetAtt: `${dlq}.QueueName` } }], Threshold: 0, ComparisonOperator: "GreaterThanThreshold" });
    }
    // Parked deliveries are records: deliveryParked takes the delivery queue's dead letters, and an alarm counts failed deliveries.
    expect(config.functions["deliveryParked"]!.events).toEqual([{ sqs: { arn: { GetAtt: "DeliveryDeadLetterQueue.Arn" }, batchSize: 10, functionResponseType: "ReportBatchItemFailures" } }]);
    expect(r["DeliveriesParkedAlarm"]!.Properties).toMatchObject({ Namespace: "Vigil", MetricName: "DeliveriesFailed", Dimensions: [{ Name: "service", Value: "vigil" }], Threshold: 0, ComparisonOperator: "GreaterThanThreshold", AlarmActions: [{ Ref: "OperationsTopic" }] });
    expect(r["AlertSubscription"]!.Properties).toMatchObject({ TopicArn: { Ref: "AnomalyGroupTopic" }, Protocol: "sqs", RawMessageDelivery: true });
  });

  it("has a sample event for every function, and every sample event parses", () => {
    for (const name of Object.keys(config.functions)) {
      const dir = join("events", name);
      const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) expect(() => JSON.parse(readFileSync(join(dir, f), "utf8"))).not.toThrow();
    }
  });
});
