import { metricSetRoot } from "../detect/results.ts";
import { shardUri } from "../detect/shard-model.ts";
import { ValidationException } from "../model/errors.ts";
import type { MetricSetArn } from "../model/ids.ts";
import type { Services } from "./services.ts";
import type { ShardMessage } from "./shard-queue.ts";

/** A message reads and writes its own metric set's results folder, and nothing else. */
export function confine(services: Pick<Services, "resultsRoot">, message: ShardMessage): void {
  const root = metricSetRoot(services.resultsRoot, { MetricSetArn: message.run.metricSetArn as MetricSetArn });
  const inside = (uri: string) => uri.startsWith(`${root}/`) && !uri.split(/[\\/]/).includes("..");
  const uris = [message.run.work];
  if (message.kind === "shard") {
    const { job } = message;
    if (job.metricSet.MetricSetArn !== message.run.metricSetArn || job.root !== root) throw new ValidationException(`The shard message's job is not of metric set ${message.run.metricSetArn}`);
    uris.push(...(job.input.kind === "history" ? job.input.spills : "uri" in job.input.cells ? [job.input.cells.uri] : []));
    // The snapshot it writes, and the committed one it reads: a version is a folder's name under model/, never a way out of it.
    uris.push(shardUri(root, job.version, job.target), ...(job.source ? [shardUri(root, job.source.version, job.source.id)] : []));
  }
  const outside = uris.find((uri) => !inside(uri));
  if (outside !== undefined) throw new ValidationException(`The shard message names ${outside}, outside its metric set's results`);
}
