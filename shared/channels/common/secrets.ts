import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";
import { ownsSecret, secretRefOf, type SecretRef } from "../../model/alert.ts";

/**
 * Turns an alert's secret (a literal or a `{{resolve:…}}` reference) into its value when
 * sending; with `owner` (the alert's account), a reference to a secret not its own is refused
 * (CreateAlert refuses it first: this holds for alerts made before it did).
 */
export interface SecretResolver {
  resolve(value: string, owner?: string): Promise<string>;
}

/** The reference in `value`, refused when it names a secret that is not `owner`'s. */
function checkedRef(value: string, owner: string | undefined): SecretRef | undefined {
  const ref = secretRefOf(value);
  if (ref && owner !== undefined && !ownsSecret(ref, owner)) throw new SecretUnavailable(ref, `${ref.source} secret ${ref.id} is not account ${owner}'s: an alert may name only its own`);
  return ref;
}

export class SecretUnavailable extends Error {
  override readonly name = "SecretUnavailable";
  constructor(
    readonly ref: SecretRef,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The local mode keeps literals only: a reference needs AWS. */
export const literalSecrets: SecretResolver = {
  async resolve(value, owner) {
    const ref = checkedRef(value, owner);
    if (ref) throw new SecretUnavailable(ref, `${ref.source} references are resolved in AWS mode only`);
    return value;
  },
};

/** How long a resolved secret is reused within one warm function. */
const CACHE_MS = 5 * 60_000;

/** Secrets Manager and SSM Parameter Store (SecureString decrypted), cached for a few minutes. */
export class AwsSecrets implements SecretResolver {
  private readonly cache = new Map<string, { value: string; until: number }>();

  constructor(
    private readonly clients: { secretsManager: () => SecretsManagerClient; ssm: () => SSMClient },
    private readonly now: () => number,
  ) {}

  async resolve(value: string, owner?: string): Promise<string> {
    const ref = checkedRef(value, owner);
    if (!ref) return value;
    const hit = this.cache.get(value);
    if (hit && hit.until > this.now()) return hit.value;
    const resolved = await this.fetch(ref);
    this.cache.set(value, { value: resolved, until: this.now() + CACHE_MS });
    return resolved;
  }

  private async fetch(ref: SecretRef): Promise<string> {
    try {
      const found =
        ref.source === "secretsmanager"
          ? (await this.clients.secretsManager().send(new GetSecretValueCommand({ SecretId: ref.id }))).SecretString
          : (await this.clients.ssm().send(new GetParameterCommand({ Name: ref.id, WithDecryption: true }))).Parameter?.Value;
      if (found === undefined) throw new Error("it holds no text value");
      return found;
    } catch (e) {
      // By the error's name alone (AccessDeniedException, ResourceNotFoundException): the service's own words name Vigil's account and role, which the alert's owner reads in its deliveries. The whole error stays the cause.
      const kind = e instanceof Error ? e.name : "an error";
      throw new SecretUnavailable(ref, `cannot read ${ref.source} secret ${ref.id} (${kind})`, { cause: e });
    }
  }
}
