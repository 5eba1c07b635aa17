import { createHash, randomUUID } from "node:crypto";
import { startFakeAwsServer } from "./aws-server.ts";

/**
 * A local SQS speaking the AWS JSON 1.0 protocol of the SDK v3 client, for what Vigil
 * calls: SendMessage, SendMessageBatch, ReceiveMessage (with visibility timeouts, so a
 * message not deleted comes back), ChangeMessageVisibilityBatch, DeleteMessage and DeleteMessageBatch. Bodies carry their MD5, which the
 * client checks. Unsigned requests and unknown queues are refused. A queue given a redrive
 * policy moves a message received maxReceiveCount times to its dead-letter queue when it
 * would be received once more, as SQS does.
 */
interface Stored {
  readonly id: string;
  readonly body: string;
  visibleAt: number;
  receipt: string;
  receives: number;
}

export interface FakeSqs {
  readonly endpoint: string;
  readonly queueUrl: (name: string) => string;
  /** Messages of a queue, visible or not, oldest first. */
  readonly messages: (name: string) => readonly { body: string; receives: number; visible: boolean }[];
}

/** A queue's largest message, and so its largest batch, as SQS sets it for a queue made before August 2025. */
export const FAKE_SQS_MAX_BYTES = 256 * 1024;

export async function startFakeSqs(names: string[], clock: () => number = Date.now, redrive: Readonly<Record<string, { readonly deadLetter: string; readonly maxReceiveCount: number }>> = {}): Promise<FakeSqs> {
  const queues = new Map<string, Stored[]>();
  const md5 = (s: string) => createHash("md5").update(s).digest("hex");
  const json = (status: number, body: unknown) => ({ status, contentType: "application/x-amz-json-1.0", body: JSON.stringify(body) });
  let base = "";
  const queueOf = (url: unknown) => queues.get(String(url).slice(base.length + "/000000000000/".length));
  const add = (q: Stored[], body: string) => {
    const id = randomUUID();
    q.push({ id, body, visibleAt: 0, receipt: "", receives: 0 });
    return { MessageId: id, MD5OfMessageBody: md5(body) };
  };
  base = await startFakeAwsServer(
    (headers, raw) => {
      const operation = String(headers["x-amz-target"] ?? "").split(".")[1] ?? "";
      const input = JSON.parse(raw || "{}") as Record<string, unknown>;
      const q = queueOf(input["QueueUrl"]);
      if (!q) return json(400, { __type: "com.amazonaws.sqs#QueueDoesNotExist", message: "The specified queue does not exist." });
      if (operation === "SendMessage") return json(200, add(q, String(input["MessageBody"])));
      if (operation === "SendMessageBatch") {
        const entries = input["Entries"] as { Id: string; MessageBody: string }[];
        const bytes = entries.reduce((n, e) => n + Buffer.byteLength(e.MessageBody), 0);
        // As SQS: a batch whose messages hold more than the queue's largest message, together, is refused whole.
        if (bytes > FAKE_SQS_MAX_BYTES) return json(400, { __type: "com.amazonaws.sqs#BatchRequestTooLong", message: `Batch requests cannot be longer than ${FAKE_SQS_MAX_BYTES} bytes. You have sent ${bytes} bytes.` });
        return json(200, { Successful: entries.map((e) => ({ Id: e.Id, ...add(q, e.MessageBody) })), Failed: [] });
      }
      if (operation === "ReceiveMessage") {
        const now = clock();
        const policy = redrive[String(input["QueueUrl"]).slice(base.length + "/000000000000/".length)];
        if (policy) {
          for (const m of q.filter((m) => m.visibleAt <= now && m.receives >= policy.maxReceiveCount)) {
            q.splice(q.indexOf(m), 1);
            queues.get(policy.deadLetter)!.push({ ...m, visibleAt: 0, receipt: "", receives: 0 });
          }
        }
        const visible = q.filter((m) => m.visibleAt <= now).slice(0, Number(input["MaxNumberOfMessages"] ?? 1));
        for (const m of visible) {
          m.visibleAt = now + 1000 * Number(input["VisibilityTimeout"] ?? 30);
          m.receipt = randomUUID();
          m.receives++;
        }
        return json(200, visible.length ? { Messages: visible.map((m) => ({ MessageId: m.id, ReceiptHandle: m.receipt, Body: m.body, MD5OfBody: md5(m.body), Attributes: { ApproximateReceiveCount: String(m.receives) } })) } : {});
      }
      if (operation === "ChangeMessageVisibilityBatch") {
        const entries = input["Entries"] as { Id: string; ReceiptHandle: string; VisibilityTimeout: number }[];
        if (entries.length > 10) return json(400, { __type: "com.amazonaws.sqs#TooManyEntriesInBatchRequest", message: `Maximum number of entries per request are 10. You have sent ${entries.length}.` });
        if (new Set(entries.map((e) => e.Id)).size < entries.length) return json(400, { __type: "com.amazonaws.sqs#BatchEntryIdsNotDistinct", message: "Two or more batch entries in the request have the same Id." });
        const now = clock();
        const found = entries.map((e) => [e, q.find((m) => m.receipt === e.ReceiptHandle)] as const);
        for (const [e, m] of found) if (m) m.visibleAt = now + 1000 * e.VisibilityTimeout;
        return json(200, { Successful: found.filter(([, m]) => m).map(([e]) => ({ Id: e.Id })), Failed: found.filter(([, m]) => !m).map(([e]) => ({ Id: e.Id, Code: "ReceiptHandleIsInvalid", SenderFault: true })) });
      }
      if (operation === "DeleteMessage") {
        const at = q.findIndex((m) => m.receipt === input["ReceiptHandle"]);
        if (at >= 0) q.splice(at, 1);
        return json(200, {});
      }
      if (operation === "DeleteMessageBatch") {
        const entries = input["Entries"] as { Id: string; ReceiptHandle: string }[];
        for (const e of entries) {
          const at = q.findIndex((m) => m.receipt === e.ReceiptHandle);
          if (at >= 0) q.splice(at, 1);
        }
        return json(200, { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] });
      }
      return json(400, { __type: "UnknownOperationException", message: operation });
    },
    () => json(403, { __type: "MissingAuthenticationToken", message: "unsigned request" }),
  );
  for (const n of names) queues.set(n, []);
  return { endpoint: base, queueUrl: (n) => `${base}/000000000000/${n}`, messages: (n) => (queues.get(n) ?? []).map((m) => ({ body: m.body, receives: m.receives, visible: m.visibleAt <= clock() })) };
}
