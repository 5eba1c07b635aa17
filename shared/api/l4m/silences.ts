import * as z from "../../model/zod.ts";
import { createSilence, expireSilence, findSilences, updateSilence } from "../../app/index.ts";
import type { Silence } from "../../model/silence.ts";
import { Arn } from "../../model/shapes.ts";
import { page } from "../paging.ts";
import { op, Paging } from "./operation.ts";

/**
 * Vigil's silences (not L4M's): mute a tenant's alerts for a while, by detector, measure or
 * dimension values, with a reason. The request of CreateSilence and UpdateSilence is checked
 * by the catalog (model/silence.ts), so its errors name the fields as the CLI's do.
 */
const silenceWire = (s: Silence) => ({ Silence: s });

export const silenceOperations = {
  CreateSilence: op(z.unknown(), (s, req, { scope }) => createSilence(s, scope, req), silenceWire),
  ListSilences: op(
    z.strictObject({ AnomalyDetectorArn: z.optional(Arn), Active: z.optional(z.boolean()), ...Paging }),
    (s, req, { scope }) => findSilences(s, scope, req),
    (all, req) => {
      const { items, NextToken } = page(all, req, `silences:${req.AnomalyDetectorArn ?? ""}:${String(req.Active ?? "")}`);
      return { Silences: items, ...(NextToken ? { NextToken } : {}) };
    },
  ),
  UpdateSilence: op(z.unknown(), (s, req, { scope }) => updateSilence(s, scope, req), silenceWire),
  ExpireSilence: op(z.strictObject({ SilenceId: z.uuid() }), (s, req, { scope }) => expireSilence(s, scope, req.SilenceId), silenceWire),
};
