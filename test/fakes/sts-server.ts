import { randomBytes, randomUUID } from "node:crypto";
import { signerOf, startFakeAwsServer } from "./aws-server.ts";

/**
 * A local STS speaking the AWS Query protocol the SDK v3 client uses, for AssumeRole: each
 * role admits the callers its trust policy names, and only with the ExternalId it asks for
 * (as `sts:ExternalId` in a trust policy's condition); anything else is AccessDenied, as
 * STS answers. It hands out fresh temporary credentials per call and records every call.
 */
export interface Role {
  /** Access keys of the principals the role trusts (Vigil's function role). */
  readonly trusts: readonly string[];
  /** The ExternalId its trust policy requires. */
  readonly externalId: string;
  /** An error STS answers for it instead, whoever asks (throttling, a 5xx). */
  readonly fails?: { readonly status: number; readonly code: string };
}

export interface AssumeRoleCall {
  readonly roleArn: string;
  readonly externalId: string | null;
  readonly sessionName: string;
  /** The access key that signed the call. */
  readonly caller: string;
  /** The credentials handed out, when the role was assumed. */
  readonly issued?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken: string };
}

export async function startFakeSts(roles: Record<string, Role>, options: { lifetimeMs?: number } = {}): Promise<{ endpoint: string; calls: AssumeRoleCall[] }> {
  const calls: AssumeRoleCall[] = [];
  const xml = (status: number, body: string) => ({ status, contentType: "text/xml", body });
  const error = (status: number, code: string, message: string) => xml(status, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
  const endpoint = await startFakeAwsServer(
    (headers, body) => {
      const form = new URLSearchParams(body);
      if (form.get("Action") !== "AssumeRole") return error(400, "InvalidAction", `Could not find operation ${String(form.get("Action"))}`);
      const caller = signerOf(headers).accessKeyId;
      const roleArn = form.get("RoleArn") ?? "";
      const sessionName = form.get("RoleSessionName") ?? "";
      const externalId = form.get("ExternalId");
      const call = { roleArn, externalId, sessionName, caller };
      const role = roles[roleArn];
      if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
        calls.push(call);
        return error(400, "ValidationError", "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint");
      }
      if (role?.fails) {
        calls.push(call);
        return error(role.fails.status, role.fails.code, `${role.fails.code} for ${roleArn}`);
      }
      if (!role || !role.trusts.includes(caller) || externalId !== role.externalId) {
        calls.push(call);
        return error(403, "AccessDenied", `User: ${caller} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
      }
      const issued = { accessKeyId: `ASIA${randomBytes(8).toString("hex").toUpperCase()}`, secretAccessKey: randomBytes(20).toString("base64"), sessionToken: randomBytes(32).toString("base64") };
      calls.push({ ...call, issued });
      const expiration = new Date(Date.now() + (options.lifetimeMs ?? 3_600_000)).toISOString();
      const account = roleArn.split(":")[4];
      return xml(
        200,
        `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>AROA${account}:${sessionName}</AssumedRoleId><Arn>arn:aws:sts::${account}:assumed-role/${roleArn.split("/").pop()}/${sessionName}</Arn></AssumedRoleUser><Credentials><AccessKeyId>${issued.accessKeyId}</AccessKeyId><SecretAccessKey>${issued.secretAccessKey}</SecretAccessKey><SessionToken>${issued.sessionToken}</SessionToken><Expiration>${expiration}</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
      );
    },
    () => error(403, "MissingAuthenticationToken", "Request is missing Authentication Token"),
  );
  return { endpoint, calls };
}
