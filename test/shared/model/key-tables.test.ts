import { describe, expect, it } from "vitest";
import { KeyTable } from "../../../shared/model/key-tables.ts";
import { collidingKeys } from "../../builders.ts";

describe("KeyTable", () => {
  it("numbers keys chosen to share one hash as a Map would, giving way to a Map; other keys keep the table", () => {
    const keys = collidingKeys(10);
    const table = new KeyTable();
    for (const round of [0, 1]) keys.forEach((key, i) => expect([round, table.intern(key)]).toEqual([round, i]));
    expect(table.size).toBe(keys.length);
    expect(table.gaveWay).toBe(true);
    const plain = new KeyTable();
    for (let i = 0; i < 50_000; i++) expect(plain.intern(`web\u001fde\u001f${i}`)).toBe(i);
    expect(plain.gaveWay).toBe(false);
  });

  it("finds a key given in two parts as the key whole, and takes keys given at once in their order", () => {
    const table = KeyTable.of(["web\u001fde", "app\u001fde", "web\u001fde"]);
    expect(table.keys).toEqual(["web\u001fde", "app\u001fde"]);
    expect([table.find("web\u001f", "de"), table.find("app", "\u001fde"), table.find("app\u001f", "fr")]).toEqual([0, 1, -1]);
    expect(table.intern("app\u001f", "fr")).toBe(2);
    expect(table.find("app\u001ffr")).toBe(2);
  });
});
