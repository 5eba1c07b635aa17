import { startFakeAwsServer } from "./aws-server.ts";

/**
 * A local Secrets Manager and SSM Parameter Store in one, speaking the AWS JSON 1.1
 * protocol of GetSecretValue and GetParameter (SecureString values are returned decrypted
 * only when asked). It counts calls, so a test can see the cache at work.
 */
export async function startFakeSecrets(secrets: Record<string, string>, parameters: Record<string, string>): Promise<{ endpoint: string; calls: string[] }> {
  const calls: string[] = [];
  const json = (status: number, body: unknown) => ({ status, contentType: "application/x-amz-json-1.1", body: JSON.stringify(body) });
  const endpoint = await startFakeAwsServer(
    (headers, raw) => {
      const target = String(headers["x-amz-target"] ?? "");
      const input = JSON.parse(raw || "{}") as Record<string, unknown>;
      calls.push(target);
      if (target === "secretsmanager.GetSecretValue") {
        const value = secrets[String(input["SecretId"])];
        return value === undefined ? json(400, { __type: "ResourceNotFoundException", Message: "Secrets Manager can't find the specified secret." }) : json(200, { Name: input["SecretId"], SecretString: value });
      }
      if (target === "AmazonSSM.GetParameter") {
        const value = parameters[String(input["Name"])];
        if (value === undefined) return json(400, { __type: "ParameterNotFound", message: "" });
        return json(200, { Parameter: { Name: input["Name"], Type: "SecureString", Value: input["WithDecryption"] ? value : "AQICAHh…encrypted" } });
      }
      return json(400, { __type: "UnknownOperationException", message: target });
    },
    () => json(403, { __type: "MissingAuthenticationTokenException", message: "unsigned request" }),
  );
  return { endpoint, calls };
}
