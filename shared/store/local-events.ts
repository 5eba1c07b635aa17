import { appendFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { AnomalyGroupEvent } from "../model/anomaly-event.ts";
import type { EventPublisher } from "./events.ts";

/** Anomaly group events appended, one JSON line each, to a local file (the local mode's topic). */
export class LocalEventPublisher implements EventPublisher {
  constructor(private readonly file: string) {}

  async publish(event: AnomalyGroupEvent): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    await appendFile(this.file, `${JSON.stringify(event)}\n`);
  }
}
