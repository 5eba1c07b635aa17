import type { AlertMessage } from "../../alerts/message.ts";
import { textChart } from "../common/chart.ts";
import { arrow, duration, intervalAt, num, pct, shown, truncate } from "../common/format.ts";
import { subjectOf } from "../common/text.ts";

/**
 * Slack's incoming-webhook body: Block Kit inside an attachment, whose bar takes the
 * severity colour (blocks alone cannot be coloured); `text` is the notification preview.
 * Every mrkdwn text, `text` included, is escaped as Slack asks (&, <, >), so a dimension
 * value like `<!channel>` or `<https://evil|click me>` shows as typed and is neither a
 * mention nor a link; plain_text (the header) is never parsed.
 */
export function slackMessage(m: AlertMessage) {
  const table = m.contributors
    .slice(0, 5)
    .map((c) => `${`${c.name}=${shown(c.value)}`.padEnd(32)} ${num(c.share).padStart(5)}%`)
    .join("\n");
  const chart = textChart(m.chart);
  return {
    text: escape(subjectOf(m)),
    attachments: [
      {
        color: m.ended ? "#2eb67d" : m.color,
        blocks: [
          { type: "header", text: { type: "plain_text", text: truncate(subjectOf(m), 150) } },
          {
            type: "section",
            fields: [
              { type: "mrkdwn", text: `*Severity*\n${num(m.score)} (${m.severity})` },
              { type: "mrkdwn", text: `*${escape(m.measure)}* ${arrow(m.direction)}\n${num(m.actual)} vs ${num(m.expected)} expected (${pct(m.changePercent)})` },
              { type: "mrkdwn", text: `*Started*\n${intervalAt(m.start, m.chart.intervalMs)}` },
              { type: "mrkdwn", text: `*${m.ended ? "Lasted" : "Lasting"}*\n${duration(m.end - m.start)}` },
            ],
          },
          ...(table ? [{ type: "section", text: { type: "mrkdwn", text: `*Top contributors*\n\`\`\`${inCode(table)}\`\`\`` } }] : []),
          ...(chart.length ? [{ type: "section", text: { type: "mrkdwn", text: `*Last ${m.chart.actual.length} intervals*\n\`\`\`${chart.join("\n")}\`\`\`` } }] : []),
          {
            type: "actions",
            elements: [
              { type: "button", text: { type: "plain_text", text: "Open group" }, url: m.links.anomalyGroup, action_id: "open" },
              { type: "button", text: { type: "plain_text", text: "Give feedback" }, url: m.links.feedback, action_id: "feedback" },
            ],
          },
          { type: "context", elements: [{ type: "mrkdwn", text: `Anomaly group \`${m.anomalyGroupId}\` · alert ${escape(m.alert.name)} · detector ${escape(m.detector.name)}` }] },
        ],
      },
    ],
  };
}

/** Slack's three control characters in mrkdwn. */
const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
/** Inside a code block, a backtick from the data could close it: it shows as a look-alike. */
const inCode = (s: string) => escape(s).replace(/`/g, "ˋ");
