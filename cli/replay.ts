import type { DeliverDeps } from "../shared/alerts/deliver.ts";
import type { DeadLetters } from "../shared/alerts/delivery.ts";
import { configFromEnv } from "../shared/runtime/config.ts";
import { localAlertingRuntime } from "../shared/runtime/local-alerting.ts";

/**
 * The delivery step `vigil replay` uses: the local data directory's, or in AWS mode
 * (VIGIL_MODE=aws) the dead-letter queue and the channels' AWS clients.
 */
export async function deliveryRuntime(dataDir: string | undefined): Promise<{ deliver: DeliverDeps; deadLetters: DeadLetters }> {
  const config = configFromEnv(dataDir ? { ...process.env, VIGIL_DATA_DIR: dataDir } : process.env);
  if (config.VIGIL_MODE === "local") {
    const rt = localAlertingRuntime(config.VIGIL_DATA_DIR, Date.now);
    return { deliver: rt.delivery, deadLetters: rt.deadLetters };
  }
  const { awsDelivery } = await import("../shared/runtime/aws-alerting.ts");
  const aws = awsDelivery(config, Date.now);
  return { deliver: aws.deliver, deadLetters: aws.deadLetters };
}
