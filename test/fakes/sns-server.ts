import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";

/**
 * A local SNS speaking the AWS Query protocol the SDK v3 client uses, for Publish: it
 * records each message with its attributes and answers with a message id. It refuses
 * requests that are not SigV4-signed, and unknown topics.
 */
export interface Published {
  readonly topicArn: string;
  readonly message: string;
  readonly attributes: Record<string, { dataType: string; value: string }>;
}

export async function startFakeSns(topics: string[]): Promise<{ endpoint: string; published: Published[] }> {
  const published: Published[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const reply = (status: number, xml: string) => {
        res.writeHead(status, { "content-type": "text/xml" });
        res.end(xml);
      };
      const error = (status: number, code: string, message: string) => reply(status, `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
      if (!String(req.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 ")) return error(403, "MissingAuthenticationToken", "unsigned request");
      const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      if (form.get("Action") !== "Publish") return error(400, "InvalidAction", String(form.get("Action")));
      const topicArn = form.get("TopicArn") ?? "";
      if (!topics.includes(topicArn)) return error(404, "NotFound", "Topic does not exist");
      const attributes: Published["attributes"] = {};
      for (let i = 1; form.has(`MessageAttributes.entry.${i}.Name`); i++) {
        attributes[form.get(`MessageAttributes.entry.${i}.Name`)!] = { dataType: form.get(`MessageAttributes.entry.${i}.Value.DataType`) ?? "", value: form.get(`MessageAttributes.entry.${i}.Value.StringValue`) ?? "" };
      }
      published.push({ topicArn, message: form.get("Message") ?? "", attributes });
      reply(200, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref(); // in-process: it ends with the test process
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("no address");
  return { endpoint: `http://127.0.0.1:${address.port}`, published };
}
