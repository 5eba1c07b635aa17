import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ApiResponse } from "../shared/api/router.ts";
import type { SessionInfo } from "../shared/api/session.ts";
import { BOOT_ELEMENT, type PageBoot } from "./app/wire.ts";

/**
 * The console's files, as `npm run build` writes them (dist/console): `index.html` for every
 * page under /console (the script routes), and the hashed bundles under /console/assets/,
 * which never change under a name and so are cached for good. Only files the build wrote
 * are served, looked up by exact name; nothing comes from anywhere else at run time.
 */
export const CONSOLE_PREFIX = "/console";
const ASSETS = `${CONSOLE_PREFIX}/assets/`;

const TYPES: Readonly<Record<string, string>> = { ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8" };

/** The page may load only its own script, styles and API (and, on AWS, Cognito's token endpoint); it may not be framed. */
const security = (connect: readonly string[]) => ({
  "content-security-policy": `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src ${["'self'", ...connect].join(" ")}; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
});

/** How the console signs in, as `/console/config.json` tells the page: a key pair (vigil serve) or Cognito (AWS). */
export type SignInConfig = { readonly SignIn: "keys" } | { readonly SignIn: "cognito"; readonly Domain: string; readonly ClientId: string };
const CONFIG_PATH = `${CONSOLE_PREFIX}/config.json`;

/** Where the build leaves room in index.html for the page's boot data (scripts/build.mjs). */
export const BOOT_MARK = "<!--vigil:boot-->";

/** The page's boot data (PageBoot) as JSON inside a script element: `<` escaped, so no value can close the element. */
const bootScript = (boot: PageBoot) => `<script type="application/json" id="${BOOT_ELEMENT}">${JSON.stringify(boot).replace(/</g, "\\u003c")}</script>`;

/** A request for a console file: the headers matter only to the page, which names its session. */
export interface FileRequest {
  readonly method: string;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string | undefined>>;
}

export const isConsolePath = (path: string) => path === CONSOLE_PREFIX || path.startsWith(`${CONSOLE_PREFIX}/`);

interface Built {
  readonly index: string;
  readonly assets: ReadonlyMap<string, { readonly type: string; readonly body: Buffer }>;
}

async function load(dir: string): Promise<Built | undefined> {
  try {
    const index = await readFile(join(dir, "index.html"), "utf8");
    const names = (await readdir(join(dir, "assets"))).filter((n) => Object.hasOwn(TYPES, n.slice(n.lastIndexOf("."))));
    const assets = new Map(await Promise.all(names.map(async (n) => [n, { type: TYPES[n.slice(n.lastIndexOf("."))]!, body: await readFile(join(dir, "assets", n)) }] as const)));
    return { index, assets };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/**
 * Serves GET requests under /console from the built folder `dir`, read once, and the page's
 * sign-in configuration; `sessionOf` tells the session a page request's cookie names.
 */
export function consoleFiles(dir: string, signIn: SignInConfig = { SignIn: "keys" }, sessionOf: (request: FileRequest) => SessionInfo | undefined = () => undefined): (request: FileRequest) => Promise<ApiResponse> {
  let built: Promise<Built | undefined> | undefined;
  const SECURITY = security(signIn.SignIn === "cognito" ? [`https://${signIn.Domain}`] : []);
  return async (request): Promise<ApiResponse> => {
    const { method, path } = request;
    if (method !== "GET" && method !== "HEAD") return { status: 405, headers: { "content-type": "text/plain; charset=utf-8", allow: "GET" }, body: `${method} is not allowed on the console's pages\n` };
    if (path === CONFIG_PATH) return { status: 200, headers: { "content-type": "application/json", "cache-control": "no-cache", ...SECURITY }, body: JSON.stringify(signIn) };
    const files = await (built ??= load(dir));
    if (!files) return { status: 503, headers: { "content-type": "text/plain; charset=utf-8" }, body: "The console is not built: run `npm run build`\n" };
    if (path.startsWith(ASSETS)) {
      const asset = files.assets.get(path.slice(ASSETS.length));
      if (!asset) return { status: 404, headers: { "content-type": "text/plain; charset=utf-8", ...SECURITY }, body: "No such file\n" };
      return { status: 200, headers: { "content-type": asset.type, "cache-control": "public, max-age=31536000, immutable", ...SECURITY }, body: asset.body.toString("utf8") };
    }
    const session = sessionOf(request);
    const boot = bootScript({ Config: signIn, ...(session ? { Session: session } : {}) });
    // Never kept: it carries the session's CSRF token.
    return { status: 200, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...SECURITY }, body: files.index.replace(BOOT_MARK, () => boot) };
  };
}
