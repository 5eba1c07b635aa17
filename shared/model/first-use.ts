/**
 * Made when first asked for and kept: what a cold start does not need (a schema's tree, a
 * client, a sender's module) costs it nothing.
 */

/**
 * A module's schemas, built when first asked for and kept: zod builds a schema's whole tree
 * when it is declared, so a module whose requests a function never parses costs it nothing
 * at a cold start. Its exported schemas are `z.lazy` over these, which parse exactly as the
 * schemas they stand for (same issues, same paths, same messages).
 */
export function onFirstUse<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => (built ??= build());
}

/**
 * The same for what is made asynchronously (a module loaded, a client, a mail transport over
 * a resolved secret). A failure is not kept: a secret out of reach for a moment or a module
 * that did not load would otherwise fail every later use in a warm function.
 */
export function madeOnFirstUse<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () =>
    (made ??= Promise.resolve()
      .then(make)
      .catch((e: unknown) => {
        made = undefined;
        throw e;
      }));
}
