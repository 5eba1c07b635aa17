// Preloaded (node -r) into a command the bench runs: on exit, its peak resident set (bytes)
// is written to the file VIGIL_BENCH_RSS_FILE names, as the kernel counted it.
const { writeFileSync } = require("node:fs");
process.on("exit", () => writeFileSync(process.env.VIGIL_BENCH_RSS_FILE, String(process.resourceUsage().maxRSS * 1024)));
