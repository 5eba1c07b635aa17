import { randomUUID } from "node:crypto";
import { signerOf, startFakeAwsServer } from "./aws-server.ts";

/**
 * A local SNS speaking the AWS Query protocol the SDK v3 client uses, for Publish: it
 * records each message with its attributes and signer and answers with a message id. It refuses
 * requests that are not SigV4-signed, unknown topics, and subjects SNS refuses (a line
 * break or control character, or 100 characters or more).
 */
export interface Published {
  readonly topicArn: string;
  readonly message: string;
  readonly subject: string | null;
  readonly attributes: Record<string, { dataType: string; value: string }>;
  /** Who signed the Publish (signerOf). */
  readonly accessKeyId: string;
  readonly sessionToken: string | null;
}

/** `hold`: a Publish to a topic it answers a promise for waits for it (a slow SNS), then is taken. */
export async function startFakeSns(topics: string[], options: { hold?: (topicArn: string) => Promise<void> | undefined } = {}): Promise<{ endpoint: string; published: Published[] }> {
  const published: Published[] = [];
  const xml = (status: number, body: string) => ({ status, contentType: "text/xml", body });
  const error = (status: number, code: string, message: string) => xml(status, `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
  const endpoint = await startFakeAwsServer(
    async (headers, body) => {
      const form = new URLSearchParams(body);
      if (form.get("Action") !== "Publish") return error(400, "InvalidAction", String(form.get("Action")));
      const topicArn = form.get("TopicArn") ?? "";
      if (!topics.includes(topicArn)) return error(404, "NotFound", "Topic does not exist");
      await options.hold?.(topicArn);
      const subject = form.get("Subject");
      if (subject !== null && (/[\p{Cc}]/u.test(subject) || [...subject].length >= 100)) return error(400, "InvalidParameter", "Invalid parameter: Subject");
      const attributes: Published["attributes"] = {};
      for (let i = 1; form.has(`MessageAttributes.entry.${i}.Name`); i++) {
        attributes[form.get(`MessageAttributes.entry.${i}.Name`)!] = { dataType: form.get(`MessageAttributes.entry.${i}.Value.DataType`) ?? "", value: form.get(`MessageAttributes.entry.${i}.Value.StringValue`) ?? "" };
      }
      published.push({ topicArn, message: form.get("Message") ?? "", subject, attributes, ...signerOf(headers) });
      return xml(200, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`);
    },
    () => error(403, "MissingAuthenticationToken", "unsigned request"),
  );
  return { endpoint, published };
}
