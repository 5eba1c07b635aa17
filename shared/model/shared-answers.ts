/**
 * Answers made once and given to many requests (a list answered from the record store's kept
 * page while nothing changed): frozen throughout, so that their wire form and JSON can be
 * kept beside them and made once, not once per request.
 */
const serialized = new WeakMap<object, string>();
const shared = new WeakSet<object>();

/** Freezes `answer` throughout and marks it as one whose JSON may be kept. */
export function sharedAnswer<T extends object>(answer: T): T {
  freezeAll(answer);
  shared.add(answer);
  return answer;
}

/** `JSON.stringify(body)`, kept for a shared answer. */
export function jsonOf(body: unknown): string {
  if (typeof body !== "object" || body === null || !shared.has(body)) return JSON.stringify(body);
  let text = serialized.get(body);
  if (text === undefined) serialized.set(body, (text = JSON.stringify(body)));
  return text;
}

/**
 * `derive(from)`, made once per `from` while `from` lives: for inputs that are shared answers
 * themselves (the same objects again while nothing changed), so what is derived is too.
 */
export function derivedOnce<K extends object, V extends object>(cache: WeakMap<K, V>, from: K, derive: (from: K) => V): V {
  if (!Object.isFrozen(from)) return derive(from);
  let made = cache.get(from);
  if (made === undefined) cache.set(from, (made = sharedAnswer(derive(from))));
  return made;
}

function freezeAll(value: unknown): void {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const v of Object.values(value)) freezeAll(v);
}
