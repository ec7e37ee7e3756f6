/**
 * The one placeholder syntax of psm's vector files (test/vectors/authorized-keys/*.vectors and
 * test/vectors/known-hosts/*.vec): `$name` stands for `TYPE BASE64` of the key called `name` in
 * that directory's keys.txt, `$name.type` and `$name.b64` for its parts. A `$` not followed by a
 * known key's name is left as it is.
 */
export interface VectorKey {
  readonly type: string;
  readonly b64: string;
}

export function expandKeys(text: string, keys: ReadonlyMap<string, VectorKey>): string {
  return text.replace(/\$([A-Za-z0-9_]+)(\.type|\.b64)?/g, (whole, name: string, part?: string) => {
    const key = keys.get(name);
    if (key === undefined) return whole;
    if (part === '.type') return key.type;
    if (part === '.b64') return key.b64;
    return `${key.type} ${key.b64}`;
  });
}
