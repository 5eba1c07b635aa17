import { OPERATOR, activateDetector, createDetector, createMetricSet } from "../shared/app/index.ts";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { inflateRawSync } from "node:zlib";
import { join } from "node:path";
import { writeFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { recordTableDefinition, TTL_ATTRIBUTE } from "../shared/store/dynamo-records.ts";
import { csvOf, HOUR, metricSetRequest, shopPoints, T0, tempDir, localAt } from "./builders.ts";
import { tempDirOnce } from "./servers.ts";

const serverless = (args: string[]) =>
  spawnSync(process.execPath, ["node_modules/serverless/bin/serverless.js", ...args], {
    encoding: "utf8",
    env: { ...process.env, AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", SLS_TELEMETRY_DISABLED: "1" },
    timeout: 120_000,
  });

interface Resource {
  Type: string;
  Properties: Record<string, unknown> & { Policies?: { PolicyDocument: { Statement: { Effect: "Allow" | "Deny"; Action: string[]; Resource: unknown }[] } }[] };
}

/** The files of a zip archive, by name (stored or deflated entries, as serverless writes them). */
function unzip(file: string): Map<string, Buffer> {
  const zip = readFileSync(file);
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(end + 10);
  const files = new Map<string, Buffer>();
  for (let i = 0, at = zip.readUInt32LE(end + 16); i < count; i++) {
    const [method, size, nameLength, extra, comment, local] = [zip.readUInt16LE(at + 10), zip.readUInt32LE(at + 20), zip.readUInt16LE(at + 28), zip.readUInt16LE(at + 30), zip.readUInt16LE(at + 32), zip.readUInt32LE(at + 42)];
    const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + size);
    files.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    at += 46 + nameLength + extra + comment;
  }
  return files;
}

/** `serverless package` (osls, offline, no AWS account) and the CloudFormation it produces. */
describe("serverless package", () => {
  let resources: Record<string, Resource>;
  let dir: string;

  beforeAll(async () => {
    dir = await tempDirOnce();
    const r = serverless(["package", "--stage", "ci", "--region", "us-east-1", "--package", dir]);
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

  it.each([
    ["ingest", "ingest"],
    ["detect", "detect"],
    ["shard", "shard"],
    ["shardParked", "shardParked"],
    ["alert", "alert"],
    ["deliveryParked", "deliveryParked"],
    ["deliver", "deliver"],
    ["api", "api"],
  ])("packages %s as its handler and the files it loads, every import found in its zip", (zip, name) => {
    const files = unzip(join(dir, `${zip}.zip`));
    expect(files.has(`functions/${name}/handler.js`)).toBe(true);
    expect(JSON.parse(files.get("functions/package.json")!.toString("utf8"))).toMatchObject({ type: "module" });
    // Nothing of another function's: each zip holds its own handler and chunks, and the ES module marker (and api the console's assets).
    const own = (f: string) => f.startsWith(`functions/${name}/`) || f === "functions/package.json" || (name === "api" && f.startsWith("dist/console/"));
    expect([...files.keys()].filter((f) => !own(f))).toEqual([]);
    // Code split into files of its own (loaded on first use) is shipped beside the handler: each relative import resolves.
    const code = [...files].filter(([f]) => f.endsWith(".js"));
    expect(code.length).toBeGreaterThan(1);
    for (const [file, body] of code)
      for (const m of body.toString("utf8").matchAll(/(?:from|import\()\s*"(\.{1,2}\/[^"]+\.js)"/g)) expect(files.has(join(file, "..", m[1]!)), `${file} imports ${m[1]}`).toBe(true);
    // node:http is read through require (scripts/esbuild-plugins.cjs): an ES module import of it would load undici.
    for (const [file, body] of code) expect(body.toString("utf8"), file).not.toMatch(/(?:from|import\()\s*"(?:node:)?http"/);
  });

  it("packages ingest on its schedule", () => {
    expect(resources["IngestLambdaFunction"]?.Properties).toMatchObject({ Runtime: "nodejs22.x", Architectures: ["arm64"], Handler: "functions/ingest/handler.handler" });
    expect(resources["IngestEventsRuleSchedule1"]?.Properties).toMatchObject({ ScheduleExpression: "rate(5 minutes)" });
  });

  it.each([
    ["Detect", ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "s3:DeleteObject", "s3:GetObject", "s3:ListBucket", "s3:PutObject", "s3:PutObjectTagging", "sns:Publish", "sqs:SendMessage", "sts:AssumeRole"]],
    [
      "Shard",
      ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "s3:DeleteObject", "s3:GetObject", "s3:ListBucket", "s3:PutObject", "s3:PutObjectTagging", "sns:Publish", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:SendMessage"],
    ],
    ["ShardParked", ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "s3:DeleteObject", "s3:GetObject", "s3:ListBucket", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]],
    ["Ingest", ["dynamodb:Query", "s3:PutObject", "sts:AssumeRole"]],
    ["Alert", ["dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:SendMessage"]],
    [
      "Deliver",
      ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "secretsmanager:GetSecretValue", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "ssm:GetParameter", "sts:AssumeRole"],
    ],
    ["DeliveryParked", ["dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:PutItem", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]],
    [
      "Api",
      [
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:Query",
        "s3:DeleteObject",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
        "s3:PutObjectTagging",
        "secretsmanager:GetSecretValue",
        "ssm:GetParameter",
        "sts:AssumeRole",
      ],
    ],
  ])("gives %s its own role, with only the actions its adapters call", (name, expected) => {
    expect(resources[`${name}LambdaFunction`]!.Properties["Role"]).toEqual({ "Fn::GetAtt": [`${name}IamRoleLambdaExecution`, "Arn"] });
    const statements = resources[`${name}IamRoleLambdaExecution`]!.Properties.Policies![0]!.PolicyDocument.Statement;
    expect(statements.filter((s) => s.Effect === "Allow").flatMap((s) => s.Action).filter((a) => !a.startsWith("logs:")).sort()).toEqual(expected);
    for (const s of statements) if (!s.Action.every((a) => a.startsWith("cloudwatch:"))) expect(s.Resource).not.toBe("*");
  });

  it.each(["Deliver", "Api"])("lets %s, which sends the SNS and Lambda actions alerts name, publish and invoke nothing with its own role: it assumes the action's RoleArn", (name) => {
    const statements = resources[`${name}IamRoleLambdaExecution`]!.Properties.Policies![0]!.PolicyDocument.Statement as { Effect: string; Action: string[]; Resource: unknown }[];
    expect(statements.filter((s) => s.Action.some((a) => /^(sns|lambda):/.test(a)))).toEqual([]);
    expect(statements.filter((s) => s.Action.includes("sts:AssumeRole"))).toEqual([{ Effect: "Allow", Action: ["sts:AssumeRole"], Resource: { "Fn::Sub": "arn:${AWS::Partition}:iam::*:role/*" } }]);
  });

  it("lets the api query the records' ranked index, and only the api", () => {
    const onIndex = (name: string) => resources[`${name}IamRoleLambdaExecution`]!.Properties.Policies![0]!.PolicyDocument.Statement.filter((st) => JSON.stringify(st.Resource).includes("/index/ranked"));
    expect(onIndex("Api")).toEqual([expect.objectContaining({ Action: ["dynamodb:Query"], Resource: { "Fn::Sub": "${RecordTable.Arn}/index/ranked" } })]);
    for (const name of ["Detect", "Ingest", "Alert", "Deliver", "Shard", "ShardParked", "DeliveryParked"]) expect(onIndex(name)).toEqual([]);
  });

  it("lets no function read customer data with its own role: S3 only under Vigil's results/, a tenant's bucket through the role its metric set names", () => {
    const roles = Object.entries(resources).filter(([name]) => name.endsWith("IamRoleLambdaExecution"));
    expect(roles.map(([name]) => name)).toEqual(expect.arrayContaining(["Ingest", "Detect", "Alert", "Deliver", "Api"].map((f) => `${f}IamRoleLambdaExecution`)));
    for (const [name, role] of roles) {
      for (const s of role.Properties.Policies![0]!.PolicyDocument.Statement as { Action: string[]; Resource: unknown; Condition?: unknown }[]) {
        if (!s.Action.some((a) => a.startsWith("s3:"))) continue;
        const where = JSON.stringify(s.Resource);
        if (s.Action.includes("s3:ListBucket")) {
          expect(s.Action, name).toEqual(["s3:ListBucket"]);
          expect(s.Condition, name).toEqual({ StringLike: { "s3:prefix": "results/*" } });
        } else expect(where, name).toMatch(/^"arn:aws:s3:::vigil-ci-us-east-1-data\/results\/\*"$/);
      }
    }
    for (const name of ["Detect", "Api", "Deliver", "Ingest"]) {
      const assume = (resources[`${name}IamRoleLambdaExecution`]!.Properties.Policies![0]!.PolicyDocument.Statement as { Action: string[]; Resource: unknown }[]).find((s) => s.Action.includes("sts:AssumeRole"));
      expect(assume?.Resource).toEqual({ "Fn::Sub": "arn:${AWS::Partition}:iam::*:role/*" });
    }
  });

  it("feeds alert and deliver from their queues in batches, reporting partial failures", () => {
    for (const [fn, queue] of [
      ["Alert", "AlertQueue"],
      ["Deliver", "DeliveryQueue"],
    ]) {
      const mapping = Object.values(resources).find((r) => r.Type === "AWS::Lambda::EventSourceMapping" && JSON.stringify(r.Properties["FunctionName"]).includes(`${fn}LambdaFunction`));
      expect(mapping?.Properties).toMatchObject({ EventSourceArn: { "Fn::GetAtt": [queue, "Arn"] }, BatchSize: 10, FunctionResponseTypes: ["ReportBatchItemFailures"] });
    }
    // deliveryParked takes the delivery queue's dead letters, which it is given time for (six times its timeout).
    const parked = Object.values(resources).find((r) => r.Type === "AWS::Lambda::EventSourceMapping" && JSON.stringify(r.Properties["FunctionName"]).includes("DeliveryParkedLambdaFunction"));
    expect(parked?.Properties).toMatchObject({ EventSourceArn: { "Fn::GetAtt": ["DeliveryDeadLetterQueue", "Arn"] }, BatchSize: 10, FunctionResponseTypes: ["ReportBatchItemFailures"] });
    expect(resources["DeliveryDeadLetterQueue"]?.Properties).toMatchObject({ VisibilityTimeout: 6 * Number(resources["DeliveryParkedLambdaFunction"]?.Properties["Timeout"]) });
    // Parked deliveries are records: nothing names the dead-letter queue to a function, which reads none.
    for (const fn of ["DeliverLambdaFunction", "ApiLambdaFunction"]) expect(JSON.stringify(resources[fn]?.Properties["Environment"])).not.toContain("DEAD_LETTER");
    // Queue names, not CloudFormation references: `serverless invoke local` resolves them offline.
    expect(resources["AlertLambdaFunction"]?.Properties).toMatchObject({ Environment: { Variables: { VIGIL_DELIVERY_QUEUE: resources["DeliveryQueue"]?.Properties?.["QueueName"] } } });
    expect(resources["DeliveryQueue"]?.Properties?.["QueueName"]).toBe("vigil-ci-deliveries");
  });

  it("fans a metric set's shards out on the shard queue: one job per invocation, partial failures, bounded concurrency, three attempts, then the dead-letter queue that marks the interval FAILED", () => {
    const mappingOf = (fn: string) => Object.values(resources).find((r) => r.Type === "AWS::Lambda::EventSourceMapping" && JSON.stringify(r.Properties["FunctionName"]).includes(`${fn}LambdaFunction`));
    expect(mappingOf("Shard")?.Properties).toMatchObject({ EventSourceArn: { "Fn::GetAtt": ["ShardQueue", "Arn"] }, BatchSize: 1, FunctionResponseTypes: ["ReportBatchItemFailures"], ScalingConfig: { MaximumConcurrency: 100 } });
    expect(mappingOf("ShardParked")?.Properties).toMatchObject({ EventSourceArn: { "Fn::GetAtt": ["ShardDeadLetterQueue", "Arn"] }, FunctionResponseTypes: ["ReportBatchItemFailures"] });
    // The queue by name, as the delivery queues: `serverless invoke local` needs no CloudFormation lookup.
    const queue = resources["ShardQueue"]?.Properties?.["QueueName"];
    expect(queue).toBe("vigil-ci-shards");
    expect(resources["ShardLambdaFunction"]?.Properties).toMatchObject({ Handler: "functions/shard/handler.handler", MemorySize: 1024, Timeout: 300, Environment: { Variables: { VIGIL_SHARD_QUEUE: queue } } });
    expect(resources["ShardParkedLambdaFunction"]?.Properties).toMatchObject({ Handler: "functions/shardParked/handler.handler" });
    expect(resources["DetectLambdaFunction"]?.Properties).toMatchObject({ Environment: { Variables: { VIGIL_SHARD_QUEUE: queue } } });
    // Lambda's advice: a visibility timeout of six times the function's, so a message is not given again while it runs.
    expect(resources["ShardQueue"]?.Properties).toMatchObject({ VisibilityTimeout: 6 * 300, RedrivePolicy: { deadLetterTargetArn: { "Fn::GetAtt": ["ShardDeadLetterQueue", "Arn"] }, maxReceiveCount: 3 } });
    expect(resources["ShardParkedAlarm"]?.Properties).toMatchObject({ MetricName: "Invocations", AlarmActions: [{ Ref: "OperationsTopic" }] });
  });

  it("gives every queue a function takes at least the function's timeout to see a message again: Lambda refuses the mapping otherwise", () => {
    const mappings = Object.values(resources).filter((r) => r.Type === "AWS::Lambda::EventSourceMapping");
    expect(mappings.length).toBeGreaterThanOrEqual(5);
    for (const mapping of mappings) {
      const queue = (mapping.Properties["EventSourceArn"] as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
      const fn = (mapping.Properties["FunctionName"] as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
      // SQS's default visibility timeout is 30 seconds.
      const visible = Number(resources[queue]?.Properties?.["VisibilityTimeout"] ?? 30);
      expect(visible, `${queue} for ${fn}`).toBeGreaterThanOrEqual(Number(resources[fn]?.Properties["Timeout"]));
    }
  });

  it("serves the api behind an HTTP API: IAM for the SDK's routes, the user pool's JWT for the console's calls", () => {
    expect(resources["ApiLambdaFunction"]?.Properties).toMatchObject({ Handler: "functions/api/handler.handler", Timeout: 29 });
    const routes = Object.values(resources).filter((r) => r.Type === "AWS::ApiGatewayV2::Route").map((r) => [r.Properties["RouteKey"], r.Properties["AuthorizationType"] ?? "NONE"]);
    // The links in alert messages carry their own signature (shared/alerts/links.ts); the console's page and files hold no data.
    expect(routes.sort()).toEqual([
      ["ANY /{proxy+}", "AWS_IAM"],
      ["GET /anomaly-groups/{proxy+}", "NONE"],
      ["GET /console", "NONE"],
      ["GET /console/{proxy+}", "NONE"],
      ["POST /anomaly-groups/{proxy+}", "NONE"],
      ["POST /console/api/{operation}", "JWT"],
    ]);
    const consoleRoute = Object.values(resources).find((r) => r.Properties["RouteKey"] === "POST /console/api/{operation}")!;
    const authorizer = Object.entries(resources).find(([, r]) => r.Type === "AWS::ApiGatewayV2::Authorizer")!;
    expect(consoleRoute.Properties["AuthorizerId"]).toEqual({ Ref: authorizer[0] });
    expect(authorizer[1].Properties).toMatchObject({
      AuthorizerType: "JWT",
      IdentitySource: ["$request.header.Authorization"],
      JwtConfiguration: { Audience: [{ Ref: "ConsoleUserPoolClient" }], Issuer: { "Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${ConsoleUserPool}" } },
    });
  });

  it("declares the console's user pool: people made by an administrator, the tenant a claim they cannot write, a code flow with PKCE", () => {
    expect(resources["ConsoleUserPool"]?.Properties).toMatchObject({
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      Schema: [{ Name: "vigil_account", AttributeDataType: "String", StringAttributeConstraints: { MinLength: "12", MaxLength: "12" } }],
    });
    const client = resources["ConsoleUserPoolClient"]!.Properties;
    expect(client).toMatchObject({ UserPoolId: { Ref: "ConsoleUserPool" }, GenerateSecret: false, AllowedOAuthFlows: ["code"], AllowedOAuthScopes: ["openid", "email"], PreventUserExistenceErrors: "ENABLED" });
    expect(client["ReadAttributes"]).toContain("custom:vigil_account");
    expect(client["WriteAttributes"]).not.toContain("custom:vigil_account");
    expect(JSON.stringify(client["CallbackURLs"])).toContain("/console/callback");
    expect(resources["ConsoleUserPoolDomain"]?.Properties).toMatchObject({ UserPoolId: { Ref: "ConsoleUserPool" }, Domain: "vigil-console-ci" });
    // The api function checks the token again against the same pool and client, and serves the page that signs in there.
    expect(resources["ApiLambdaFunction"]?.Properties).toMatchObject({
      Environment: {
        Variables: {
          VIGIL_CONSOLE_ISSUER: { "Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${ConsoleUserPool}" },
          VIGIL_CONSOLE_CLIENT_ID: { Ref: "ConsoleUserPoolClient" },
          VIGIL_CONSOLE_DOMAIN: { "Fn::Sub": "${ConsoleUserPoolDomain}.auth.${AWS::Region}.amazoncognito.com" },
        },
      },
    });
  });

  it("packages the console's built page and files with the api function", () => {
    const listed = spawnSync("unzip", ["-l", join(dir, "api.zip")], { encoding: "utf8" });
    expect(listed.status).toBe(0);
    const names = listed.stdout.split("\n").map((l) => l.trim().split(/\s+/).at(-1) ?? "");
    expect(names).toContain("dist/console/index.html");
    expect(names.filter((n) => /^dist\/console\/assets\/main-[A-Z0-9]+\.(js|css)$/.test(n))).toHaveLength(2);
  });

  it("has the anomaly group topic, encrypted, that detect may publish to", () => {
    expect(resources["AnomalyGroupTopic"]).toMatchObject({ Type: "AWS::SNS::Topic", Properties: { TopicName: "vigil-ci-anomaly-groups", KmsMasterKeyId: "alias/aws/sns" } });
  });

  it("encrypts the operations topic with a key CloudWatch may use, so every alarm's action can publish there (an AWS managed key admits no alarm)", () => {
    const alarms = Object.entries(resources).filter(([, r]) => r.Type === "AWS::CloudWatch::Alarm");
    expect(alarms.length).toBeGreaterThanOrEqual(4);
    for (const [name, alarm] of alarms) expect(alarm.Properties["AlarmActions"], name).toEqual([{ Ref: "OperationsTopic" }]);
    const keyRef = resources["OperationsTopic"]?.Properties["KmsMasterKeyId"] as { Ref?: string } | string;
    expect(typeof keyRef === "string" ? keyRef : undefined).toBeUndefined();
    const key = resources[(keyRef as { Ref: string }).Ref];
    expect(key?.Type).toBe("AWS::KMS::Key");
    expect(key?.Properties["EnableKeyRotation"]).toBe(true);
    const statements = (key!.Properties["KeyPolicy"] as { Statement: { Effect: string; Principal: unknown; Action: string | string[]; Condition?: unknown }[] }).Statement;
    const forCloudWatch = statements.filter((s) => s.Effect === "Allow" && JSON.stringify(s.Principal) === JSON.stringify({ Service: "cloudwatch.amazonaws.com" }));
    expect(forCloudWatch).toHaveLength(1);
    expect([forCloudWatch[0]!.Action].flat().sort()).toEqual(["kms:Decrypt", "kms:GenerateDataKey*"]);
    // This account's alarms only.
    expect(forCloudWatch[0]!.Condition).toMatchObject({ StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } } });
  });

  it("refuses every request to the data bucket that does not come over TLS", () => {
    const policies = Object.values(resources).filter((r) => r.Type === "AWS::S3::BucketPolicy" && JSON.stringify(r.Properties["Bucket"]) === JSON.stringify({ Ref: "S3BucketData" }));
    expect(policies).toHaveLength(1);
    const statements = (policies[0]!.Properties["PolicyDocument"] as { Statement: { Effect: string; Principal: unknown; Action: unknown; Resource: unknown; Condition?: unknown }[] }).Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [{ "Fn::GetAtt": ["S3BucketData", "Arn"] }, { "Fn::Sub": "${S3BucketData.Arn}/*" }],
        Condition: { Bool: { "aws:SecureTransport": false } },
      }),
    );
  });

  it("keeps records in one table with point-in-time recovery, keyed and indexed as the adapter expects", () => {
    expect(resources["RecordTable"]?.Properties).toMatchObject({ BillingMode: "PAY_PER_REQUEST", PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true } });
    const { AttributeDefinitions, KeySchema, GlobalSecondaryIndexes } = recordTableDefinition("x");
    expect(resources["RecordTable"]?.Properties).toMatchObject({ AttributeDefinitions, KeySchema, GlobalSecondaryIndexes });
    expect(resources["RecordTable"]?.Properties["GlobalSecondaryIndexes"]).toHaveLength(1);
  });
});

describe("serverless invoke local", () => {
  it("runs detect on its sample event against the local mode, with no AWS account", async () => {
    const dir = await tempDir();
    const rt = localAt(dir);
    await rt.blobs.put(join(dir, "files", "history.csv"), csvOf(shopPoints(T0, 24 * 7, [{ platform: "web", marketplace: "de", base: 300 }])));
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await createMetricSet(rt, OPERATOR, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { TemplatedPathList: [join(dir, "files/live/{{yyyyMMdd}}/{{HHmm}}")], HistoricalDataPathList: [join(dir, "files/history.csv")] } } }));
    await activateDetector(rt, OPERATOR, detector.AnomalyDetectorArn);
    const event = join(dir, "event.json");
    const sample = JSON.parse(readFileSync("events/detect/schedule.json", "utf8")) as Record<string, unknown>;
    await writeFile(event, JSON.stringify({ ...sample, time: new Date(T0 + 24 * 7 * HOUR + HOUR).toISOString() }));
    const r = serverless(["invoke", "local", "-f", "detect", "--path", event, "-e", "VIGIL_MODE=local", "-e", `VIGIL_DATA_DIR=${dir}`]);
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout.slice(r.stdout.indexOf('{\n    "trigger"'))) as { trigger: string; intervals: { outcome: string }[] };
    expect(result).toMatchObject({ trigger: "schedule", intervals: [{ outcome: "processed" }] });
  }, 180_000);
});
