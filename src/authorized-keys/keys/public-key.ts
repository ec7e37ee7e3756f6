import { hash } from 'node:crypto';
import { codedError, err, ok, type Result } from '../../common/result.js';
import { decodeCanonicalBase64 } from '../../common/base64.js';
import { parseCertificate, type CertificateDetails } from '../certificates/certificate.js';
import { parseKeyBody } from './key-body.js';
import { blobKeyType, textKeyType, type KeyTypeInfo, type KeyTypeName } from './key-types.js';
import type { PublicKeyError } from './public-key-errors.js';
import { bytesEqual, latin1, SshReader } from './ssh-reader.js';
import { skipBlanks, tokenEnd } from './tokens.js';

export { KEY_TYPE_NAMES, isKeyTypeName, type KeyTypeName } from './key-types.js';
export type { PublicKeyError, PublicKeyErrorCode } from './public-key-errors.js';
export type { CertificateDetails } from '../certificates/certificate.js';

/**
 * The longest base64 key field psm reads. sshd has no limit; psm bounds it so a hostile line
 * costs bounded work (a 16384-bit RSA certificate with 256 long principals fits easily).
 */
export const MAX_KEY_BASE64_CHARS = 128 * 1024;

export interface PublicKey {
  readonly type: KeyTypeName;
  /** The decoded key blob, exactly as it appears in the file. */
  readonly blob: Uint8Array;
  /** Canonical base64 of `blob`, as written in the file. */
  readonly base64: string;
  readonly bits: number;
  /**
   * "SHA256:" + unpadded base64 of sha256(blob), as `ssh-keygen -l` prints it; for a certificate,
   * of its plain key's blob (what ssh-keygen and sshd's logs show).
   */
  readonly fingerprint: string;
  readonly certificate: boolean;
  /** Present exactly when `certificate` is true. */
  readonly cert?: CertificateDetails;
}

export function sha256Fingerprint(blob: Uint8Array): string {
  return fingerprintOfDigest(sha256Base64(blob));
}

/** Padded base64 of sha256(blob): 44 characters, the last one "=". */
function sha256Base64(blob: Uint8Array): string {
  return hash('sha256', blob, 'base64');
}

function fingerprintOfDigest(digestBase64: string): string {
  return `SHA256:${digestBase64.slice(0, 43)}`;
}

/**
 * When a parsed key's SHA-256 fingerprint is taken: on its first read (a lookup in a large
 * known_hosts file reads every key and prints a few), or while the key is parsed, from the blob
 * already decoded (readers that report every key's fingerprint, such as authorized_keys lines).
 */
export type FingerprintWhen = 'on-read' | 'now';

/** Same key as sshd's sshkey_equal sees it: same type, and the same key (or the same certificate). */
export function publicKeyEquals(a: PublicKey, b: PublicKey): boolean {
  if (a.type !== b.type) return false;
  return a.certificate ? bytesEqual(a.blob, b.blob) : a.fingerprint === b.fingerprint;
}

/**
 * Parses a key given as its text type name and base64 blob. Strict: canonical padded base64,
 * the blob's inner type equal to `typeName`, valid key material, no trailing bytes, and for
 * certificates a CA signature that verifies.
 */
export function parsePublicKey(typeName: string, base64: string): Result<PublicKey, PublicKeyError> {
  const info = textKeyType(typeName);
  if (info === undefined)
    return err(codedError('UNKNOWN_KEY_TYPE', `unknown key type ${JSON.stringify(typeName.slice(0, 64))}`));
  return parseTypedKey(info, typeName, base64, 'on-read');
}

/** parsePublicKey once the type name is known to be one (readKeyField has already looked it up). */
function parseTypedKey(
  info: KeyTypeInfo,
  typeName: string,
  base64: string,
  fingerprint: FingerprintWhen,
): Result<PublicKey, PublicKeyError> {
  if (base64.length === 0)
    return err(codedError('MISSING_KEY_DATA', 'the key type is not followed by key data'));
  if (base64.length > MAX_KEY_BASE64_CHARS)
    return err(codedError('KEY_DATA_TOO_LONG', `key data is longer than ${MAX_KEY_BASE64_CHARS} characters`));
  const blob = decodeCanonicalBase64(base64);
  if (blob === null) return err(codedError('BAD_BASE64', 'key data is not canonical padded base64'));
  const reader = new SshReader(blob);
  // sshd compares resolved types, so aliases and (inside blobs) short names are the same type.
  const exactInner = reader.skipStringEqual(info.name);
  if (!exactInner) {
    const inner = reader.string();
    if (inner === null)
      return err(codedError('MALFORMED_KEY_BLOB', 'key blob: the type string is truncated'));
    if (blobKeyType(latin1(inner))?.name !== info.name) {
      const innerName = JSON.stringify(latin1(inner).slice(0, 64));
      return err(codedError('KEY_TYPE_MISMATCH', `key blob holds a ${innerName} key, not ${typeName}`));
    }
  }
  const bodyStart = reader.position;
  let bits: number;
  let cert: CertificateDetails | undefined;
  // null: the fingerprint is of the blob exactly as written, taken when first read.
  let digest: string | null;
  if (info.certificate) {
    const parsed = parseCertificate(blob, reader, info.algorithm);
    if (!parsed.ok) return parsed;
    bits = parsed.value.bits;
    cert = parsed.value.details;
    // ssh-keygen -l fingerprints a certificate by its plain key (sshkey_fingerprint forces plain).
    digest = sha256Base64(plainBlob(info.plain, parsed.value.plainBody));
  } else {
    const parsed = parseKeyBody(reader, info.algorithm);
    if (!parsed.ok) return parsed;
    if (reader.remaining !== 0) return err(codedError('TRAILING_DATA', 'key blob: bytes after the key'));
    bits = parsed.value.bits;
    // ssh-keygen and sshd fingerprint the key as they re-encode it, with its canonical type name.
    if (!exactInner) digest = sha256Base64(plainBlob(info.name, blob.subarray(bodyStart)));
    else digest = fingerprint === 'now' ? sha256Base64(blob) : null;
  }
  return ok(new ParsedKey(info.name, base64, bits, digest, cert));
}

/**
 * A parsed key. `blob` is decoded again from `base64` on each read (a fresh copy), so a parsed
 * file does not keep a second copy of every key alive. The SHA-256 behind `fingerprint` is taken
 * when the caller says (FingerprintWhen), on its first read by default when it is of the blob as
 * written (most keys). Other own properties are plain data, so deep
 * equality and JSON see the same fields as for an object literal, minus those two.
 */
class ParsedKey implements PublicKey {
  readonly certificate: boolean;
  declare readonly cert?: CertificateDetails;
  #digest: string | null;

  constructor(
    readonly type: KeyTypeName,
    readonly base64: string,
    readonly bits: number,
    digestBase64: string | null,
    cert: CertificateDetails | undefined,
  ) {
    this.#digest = digestBase64;
    this.certificate = cert !== undefined;
    if (cert !== undefined) this.cert = cert;
  }

  get fingerprint(): string {
    this.#digest ??= sha256Base64(this.blob);
    return fingerprintOfDigest(this.#digest);
  }

  get blob(): Uint8Array {
    return Buffer.from(this.base64, 'base64');
  }
}

function plainBlob(typeName: string, body: Uint8Array): Uint8Array {
  const out = Buffer.alloc(4 + typeName.length + body.length);
  out.writeUInt32BE(typeName.length, 0);
  out.write(typeName, 4, 'latin1');
  out.set(body, 4 + typeName.length);
  return out;
}

/** Reads "type base64" starting at `start` (after blanks) like sshkey_read; returns the key and the index after it. */
export function readKeyField(
  text: string,
  start: number,
  fingerprint: FingerprintWhen = 'on-read',
): Result<{ key: PublicKey; end: number }, PublicKeyError> {
  const typeStart = skipBlanks(text, start);
  const typeEnd = tokenEnd(text, typeStart);
  const typeName = text.slice(typeStart, typeEnd);
  const info = textKeyType(typeName);
  if (info === undefined)
    return err(
      codedError(
        'UNKNOWN_KEY_TYPE',
        `unknown key type ${JSON.stringify(typeName.slice(0, 64))}`,
        typeStart + 1,
      ),
    );
  return readTypedKeyField(text, typeName, info, typeEnd, fingerprint);
}

/**
 * readKeyField after the type name: `typeName` (ending at `typeEnd` in `text`) is a key type
 * `info`. For callers that have already looked the name up (a line's first token).
 */
export function readTypedKeyField(
  text: string,
  typeName: string,
  info: KeyTypeInfo,
  typeEnd: number,
  fingerprint: FingerprintWhen = 'on-read',
): Result<{ key: PublicKey; end: number }, PublicKeyError> {
  // sshkey_read needs a blank after the type name and something after the blanks.
  const dataStart = skipBlanks(text, typeEnd);
  if (typeEnd === text.length || dataStart === text.length)
    return err(codedError('MISSING_KEY_DATA', `${typeName} is not followed by key data`, typeEnd + 1));
  const dataEnd = tokenEnd(text, dataStart);
  const parsed = parseTypedKey(info, typeName, text.slice(dataStart, dataEnd), fingerprint);
  if (!parsed.ok) return err({ ...parsed.error, column: dataStart + 1 });
  return ok({ key: parsed.value, end: skipBlanks(text, dataEnd) });
}
