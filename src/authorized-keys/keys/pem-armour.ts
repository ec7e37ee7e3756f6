/**
 * The PEM armour of an "openssh-key-v1" file, written straight into bytes: Buffer's base64
 * would leave the private key in a JavaScript string, which cannot be wiped.
 */
const ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');
const BEGIN = Buffer.from('-----BEGIN OPENSSH PRIVATE KEY-----\n', 'latin1');
const END = Buffer.from('-----END OPENSSH PRIVATE KEY-----\n', 'latin1');
/** ssh-keygen's line width for this armour (sshbuf_dtob64 with wrap). */
const PEM_WIDTH = 70;

export function armourOpensshKey(body: Uint8Array): Uint8Array {
  const encodedLength = Math.ceil(body.length / 3) * 4;
  const lineBreaks = Math.ceil(encodedLength / PEM_WIDTH);
  const out = new Uint8Array(BEGIN.length + encodedLength + lineBreaks + END.length);
  out.set(BEGIN, 0);
  let o = BEGIN.length;
  let column = 0;
  const put = (byte: number): void => {
    out[o++] = byte;
    if (++column === PEM_WIDTH) {
      out[o++] = 0x0a;
      column = 0;
    }
  };
  for (let i = 0; i < body.length; i += 3) {
    const a = body[i] ?? 0;
    const b = body[i + 1] ?? 0;
    const c = body[i + 2] ?? 0;
    put(ALPHABET[a >> 2] ?? 0);
    put(ALPHABET[((a & 3) << 4) | (b >> 4)] ?? 0);
    put(i + 1 < body.length ? (ALPHABET[((b & 15) << 2) | (c >> 6)] ?? 0) : 0x3d);
    put(i + 2 < body.length ? (ALPHABET[c & 63] ?? 0) : 0x3d);
  }
  if (column !== 0) out[o++] = 0x0a;
  out.set(END, o);
  return out.subarray(0, o + END.length);
}
