/**
 * Whether luxon can read a ColumnFormat pattern in bounded time. Luxon turns a pattern into
 * one regular expression, a group per token: tokens of variable width written side by side
 * (`dMdM…` is `\d{1,2}\d{1,2}…`) leave it so many ways to split a value that a value that
 * fits none takes exponential time to refuse. A token whose neighbours start and end with
 * other characters than its own can end in one place only, so such a pattern is linear.
 * No luxon here: the schemas that check a pattern are loaded where luxon must not be.
 */

/** The ColumnFormats that are no luxon pattern (see ingest/timestamp.ts), in any case. */
const KEYWORDS: ReadonlySet<string> = new Set(["ISO_8601", "EPOCH_SECONDS", "EPOCH_MILLISECONDS", "EPOCH_MILLIS"]);

/** A piece of a pattern as luxon's `Formatter.parseFormat` splits it: a run of one character, or text to match as it is. */
export interface FormatToken {
  readonly literal: boolean;
  readonly val: string;
}

/** Splits `format` as luxon does: runs of one character, quoted text as literal (`''` a quote), white space literal. */
export function tokenizeFormat(format: string): FormatToken[] {
  const tokens: FormatToken[] = [];
  const isSpace = (s: string) => /^\s+$/.test(s);
  // The run is format[from, to), sliced once it ends: a string grown a character at a time and read at its start each time is flattened each time (quadratic).
  let from = 0;
  let to = 0;
  let quoted = false;
  const run = () => format.slice(from, to);
  // By UTF-16 unit, as luxon's charAt: a pair of surrogates is two tokens there too.
  for (let i = 0; i < format.length; i++) {
    const c = format.charAt(i);
    if (c === "'") {
      if (to > from || quoted) tokens.push({ literal: quoted || isSpace(run()), val: to === from ? "'" : run() });
      from = to = i + 1;
      quoted = !quoted;
    } else if (quoted || (to > from && c === format.charAt(from))) {
      to = i + 1;
    } else {
      if (to > from) tokens.push({ literal: isSpace(run()), val: run() });
      from = i;
      to = i + 1;
    }
  }
  if (to > from) tokens.push({ literal: quoted || isSpace(run()), val: run() });
  return tokens;
}

/**
 * What characters a token may start with (`first`) and end with or, when of variable
 * width, go on with (`last`): "digit", "letter", any other character as itself, or "*"
 * for any character.
 */
interface Unit {
  readonly text: string;
  readonly variable: boolean;
  readonly first: readonly string[];
  readonly last: readonly string[];
}

const DIGIT = ["digit"];
/** Names of months, weekdays, eras and AM/PM: letters, in the locales Vigil runs in. */
const NAME = ["letter"];
/** luxon's `z`: `[a-z_+-/]{1,256}?`, the range `+-/` being `+,-./`. */
const ZONE = ["letter", "_", "+", ",", "-", ".", "/"];
const ANY = ["*"];

/** luxon's parsing tokens (tokenParser.js, unitForToken), by width; any other run is matched as literal text. */
const FIXED_DIGITS = new Set(["yyyy", "yyyyyy", "MM", "LL", "dd", "ooo", "HH", "hh", "mm", "qq", "ss", "SSS", "uuu", "kkkk", "WW", "E", "c"]);
const VARIABLE_DIGITS = new Set(["y", "yy", "yyyyy", "M", "L", "d", "o", "H", "h", "m", "q", "s", "S", "u", "uu", "kk", "W"]);
const NAMES = new Set(["G", "GG", "MMM", "MMMM", "LLL", "LLLL", "EEE", "EEEE", "ccc", "cccc", "a"]);
/** Macro tokens, which luxon expands to the server locale's own layout (`D` is `M/d/yyyy` in en-US). */
const MACROS = new Set(["D", "DD", "DDD", "DDDD", "t", "tt", "ttt", "tttt", "T", "TT", "TTT", "TTTT", "f", "ff", "fff", "ffff", "F", "FF", "FFF", "FFFF"]);

const kindOf = (c: string) => (/\d/.test(c) ? "digit" : /\p{L}/u.test(c) ? "letter" : c);

function unitOf({ literal, val }: FormatToken): Unit {
  const unit = (variable: boolean, first: readonly string[], last: readonly string[]): Unit => ({ text: val, variable, first, last });
  if (literal) return unit(false, [kindOf(val.charAt(0))], [kindOf(val.charAt(val.length - 1))]);
  if (FIXED_DIGITS.has(val)) return unit(false, DIGIT, DIGIT);
  if (VARIABLE_DIGITS.has(val)) return unit(true, DIGIT, DIGIT);
  if (NAMES.has(val)) return unit(true, NAME, NAME);
  // An offset: `[+-]\d{1,2}(:\d{2})?`, ZZZ without the colon.
  if (val === "Z" || val === "ZZ") return unit(true, ["+", "-"], ["digit", ":"]);
  if (val === "ZZZ") return unit(true, ["+", "-"], DIGIT);
  if (val === "z") return unit(true, ZONE, ZONE);
  if (MACROS.has(val)) return unit(true, ANY, ANY);
  return unit(false, [kindOf(val.charAt(0))], [kindOf(val.charAt(val.length - 1))]);
}

const overlap = (a: readonly string[], b: readonly string[]) => a.includes("*") || b.includes("*") || a.some((k) => b.includes(k));

/**
 * Why luxon cannot read `format` in bounded time, or undefined when it can (and for the
 * ColumnFormat keywords). Tokens whose characters run into each other's (digits beside
 * digits, names beside names) form a chain: a chain with one token of variable width splits
 * a value in as many ways as that token has widths (`yyMMdd`: three), one with two splits it
 * in their product, and so on, which is what grows exponentially. So a chain may hold one.
 */
export function timestampFormatProblem(format: string): string | undefined {
  if (KEYWORDS.has(format.toUpperCase())) return undefined;
  const tokens = tokenizeFormat(format);
  const units = tokens.map(unitOf);
  const macro = tokens.find((t) => !t.literal && MACROS.has(t.val));
  if (macro && units.length > 1) return `uses '${macro.val}', which luxon expands to the server locale's layout: write the pattern out in full (e.g. M/d/yyyy HH:mm) and quote literal letters ('T')`;
  let loose: Unit | undefined;
  for (let i = 0; i < units.length; i++) {
    const unit = units[i]!;
    if (i > 0 && !overlap(units[i - 1]!.last, unit.first)) loose = undefined;
    if (!unit.variable) continue;
    if (loose) return chainProblem(loose, unit);
    loose = unit;
  }
  return undefined;
}

function chainProblem(a: Unit, b: Unit): string {
  return `has '${a.text}' and '${b.text}' in one run with nothing between them that either could not hold, and neither has a fixed width, so a value can be split between them in too many ways: put a separator between them (as in yyyy-M-d H:m) or use fixed-width tokens (yyyy, MM, dd, HH, mm, ss, SSS)`;
}
