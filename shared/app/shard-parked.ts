import { parkRun, type DetectServices } from "./detect.ts";
import type { Services } from "./services.ts";
import { confine } from "./shard-confine.ts";
import type { ShardMessage } from "./shard-queue.ts";

/**
 * A message the queue gave up on (its dead-letter queue): the run's interval is FAILED with
 * the reason its step last gave. Apart from shard-queue.ts, whose shard jobs never load the
 * rest of detection, as parking a run does every time.
 */
export async function parkedMessage(services: DetectServices & Pick<Services, "region">, message: ShardMessage, now: number): Promise<boolean> {
  confine(services, message);
  return parkRun(services, message.run.work, message.kind === "merge" ? "merge" : `s${message.job.target}`, now);
}
