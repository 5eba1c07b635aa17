import { execFileSync } from "node:child_process";

/** The CLI tests run the real bundle: build it once, fresh, before any test. */
export default function setup(): void {
  execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
}
