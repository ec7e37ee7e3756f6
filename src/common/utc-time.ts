/**
 * A full UTC timestamp as people and scripts write it (`2026-01-01T00:00:00Z`, milliseconds
 * allowed), or undefined. Only UTC: a local-time reading would make what psm writes (a key's
 * expiry) depend on the host's time zone. Calendar overflow (`02-30`) is refused, not rolled over.
 */
export function parseUtcTimestamp(text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(text)) return undefined;
  const date = new Date(text);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 19) !== text.slice(0, 19)) return undefined;
  return date;
}
