/**
 * Node's errno code of a failed system call (`ENOENT`, `EACCES`, ...), for messages and for
 * branching on it: only the code, never the error's message (which can quote paths or contents).
 * `fallback` is what a caller prints when the error carries no code.
 */
export function errnoOf(error: unknown, fallback = 'unknown error'): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : fallback;
}
