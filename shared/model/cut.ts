/**
 * `text` cut to at most `max` UTF-16 units, `mark` included, never inside a surrogate pair;
 * as it is when it fits. By units, not code points: the cut is a slice, however long the text.
 */
export function cutText(text: string, max: number, mark = ""): string {
  if (text.length <= max) return text;
  let end = max - mark.length;
  const high = text.charCodeAt(end - 1);
  if (high >= 0xd800 && high <= 0xdbff) end--;
  return `${text.slice(0, end)}${mark}`;
}
