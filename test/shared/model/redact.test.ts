import { describe, expect, it } from "vitest";
import { failureReasonOf, pathsShownFor } from "../../../shared/detect/results.ts";
import { messageForTenant, redactPaths } from "../../../shared/model/redact.ts";

const systemError = (code: string, syscall: string, path: string, description = "no such file or directory") =>
  Object.assign(new Error(`${code}: ${description}, ${syscall} '${path}'`), { code, syscall, path, errno: -2 });

describe("redactPaths: what an error may tell a tenant of the server's files", () => {
  const shown = { folders: ["/srv/data/b"], exact: ["/etc/passwd-as-named"], hidden: ["/srv/vigil/results"] };

  it("hides a system error's path outside the tenant's folders, keeping the code and the call", () => {
    expect(messageForTenant(systemError("ENOENT", "open", "/srv/vigil/state/records.db"), shown)).toBe("ENOENT: no such file or directory, open <server path>");
    expect(messageForTenant(systemError("EACCES", "open", "/home/op/my data/x.csv", "permission denied"), shown)).toBe("EACCES: permission denied, open <server path>");
  });

  it("shows a path inside the tenant's folders, or one it named, as it is", () => {
    expect(messageForTenant(systemError("EISDIR", "open", "/srv/data/b/live/x.csv", "illegal operation on a directory"), shown)).toBe("EISDIR: illegal operation on a directory, open '/srv/data/b/live/x.csv'");
    expect(redactPaths("Access denied to /etc/passwd-as-named: it is outside the folders you may read", shown)).toBe("Access denied to /etc/passwd-as-named: it is outside the folders you may read");
    expect(redactPaths("Access denied to /srv/data/b: it is a folder.", shown)).toBe("Access denied to /srv/data/b: it is a folder.");
  });

  it("hides a path that only seems inside the tenant's folders, or next to one", () => {
    expect(redactPaths("open '/srv/data/b/../a/x.csv'", shown)).toBe("open <server path>");
    expect(redactPaths("open /srv/data/b/./../a/x.csv", shown)).toBe("open <server path>");
    expect(redactPaths("open /srv/data/bc/x.csv", shown)).toBe("open <server path>");
  });

  it("names the results store, never its path, even where a tenant's folder would hold it", () => {
    expect(redactPaths("ENOTDIR: not a directory, open '/srv/vigil/results/123/d/m/model/head.bin'", shown)).toBe("ENOTDIR: not a directory, open <results store>");
    expect(redactPaths("at /srv/vigil/results", { folders: ["/srv"], hidden: ["/srv/vigil/results/"] })).toBe("at <results store>");
    expect(redactPaths("NoSuchKey: s3://vigil-results-1/results/123/d/m/model/head.bin is gone", { hidden: ["s3://vigil-results-1/results"] })).toBe("NoSuchKey: <results store> is gone");
  });

  it("where the operator alone uses Vigil (no data roots), shows its own paths and still names the results store", () => {
    const own = pathsShownFor([], undefined, "/srv/vigil/results");
    expect(failureReasonOf(systemError("ENOENT", "open", "/home/me/data/20210104/x.csv"), own)).toBe("ENOENT: no such file or directory, open '/home/me/data/20210104/x.csv'");
    expect(failureReasonOf(systemError("ENOTDIR", "open", "/srv/vigil/results/123/d/m/model/head.bin", "not a directory"), own)).toBe("ENOTDIR: not a directory, open <results store>");
    // A tenant with data roots, even none, sees no path outside them.
    expect(failureReasonOf(systemError("ENOENT", "open", "/home/me/data/20210104/x.csv"), pathsShownFor([], [], "/srv/vigil/results"))).toBe("ENOENT: no such file or directory, open <server path>");
  });

  it("a path the tenant named is shown only when met exactly: naming / shows no path under it", () => {
    expect(redactPaths("open '/srv/vigil/state/link-secret'", { exact: ["/"], folders: [] })).toBe("open <server path>");
    expect(redactPaths("open '/srv/vigil/state/link-secret'", { folders: ["/"] })).toBe("open <server path>");
  });

  it("hides paths in any form: unquoted, file://, at a sentence's end, several in one message", () => {
    expect(redactPaths("the model's shard s0 is unreadable (EIO: i/o error, read /srv/x/y.bin).")).toBe("the model's shard s0 is unreadable (EIO: i/o error, read <server path>).");
    expect(redactPaths("cannot read file:///srv/x/y.csv.")).toBe("cannot read <server path>.");
    expect(redactPaths("ENOENT: no such file or directory, rename '/srv/a' -> '/srv/b'")).toBe("ENOENT: no such file or directory, rename <server path> -> <server path>");
  });

  it("leaves what is not a local path: addresses, words with a slash, a tenant's S3 keys", () => {
    const text = "POST https://hooks.example.com/a/b failed (rows/s and/or 1/2) reading s3://tenant-bucket/live/x.csv";
    expect(redactPaths(text, { hidden: ["s3://vigil-results-1/results"] })).toBe(text);
  });

  it("hides the path before a reason is cut to 256 characters, so no part of one is left", () => {
    const reason = failureReasonOf(new Error(`${"x".repeat(240)} at /srv/vigil/state/records.db`));
    expect(reason).not.toContain("/srv");
    expect(reason.length).toBeLessThanOrEqual(256);
  });
  it("an address root hides itself and what is under it, not another bucket whose name it begins", () => {
    const hidden = { hidden: ["s3://vigil"] };
    expect(redactPaths("could not read s3://vigil-tenant/in/x.csv", hidden)).toBe("could not read s3://vigil-tenant/in/x.csv");
    expect(redactPaths("could not read s3://vigil.data/in/x.csv", hidden)).toBe("could not read s3://vigil.data/in/x.csv");
    expect(redactPaths("could not read s3://vigil/123/model/head.bin nor s3://vigil.", hidden)).toBe("could not read <results store> nor <results store>.");
  });

  it("a root with a space in it is met whole: the results store's leaves no piece, a tenant's folder is shown whole", () => {
    const spaced = { folders: ["/data/my tenant"], hidden: ["/var/vigil results"] };
    expect(redactPaths("no history to back-test under /var/vigil results/123/ms/data/", spaced)).toBe("no history to back-test under <results store>");
    expect(redactPaths("ENOENT: no such file or directory, open '/data/my tenant/x.csv'", spaced)).toBe("ENOENT: no such file or directory, open '/data/my tenant/x.csv'");
    expect(redactPaths("no history under /data/my tenant/history.", spaced)).toBe("no history under /data/my tenant/history.");
    // Next to the tenant's folder is not in it.
    expect(redactPaths("open /data/my tenants/x.csv", spaced)).not.toContain("/data/my");
  });
});
