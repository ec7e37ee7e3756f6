import { codedError, err, ok, type Result } from '../../common/result.js';
import { parseKeyBody, type KeyMaterial } from '../keys/key-body.js';
import { blobKeyType, type KeyAlgorithm, type PlainKeyTypeName } from '../keys/key-types.js';
import type { PublicKeyError } from '../keys/public-key-errors.js';
import { verifySshSignature } from './signature.js';
import { SshReader } from '../keys/ssh-reader.js';

/** sshd's SSHKEY_CERT_MAX_PRINCIPALS. */
export const CERT_MAX_PRINCIPALS = 256;
export const CERT_TYPE_USER = 1;
export const CERT_TYPE_HOST = 2;

export interface CertificateDetails {
  readonly serial: bigint;
  readonly certType: 'user' | 'host';
  readonly keyId: string;
  readonly principals: readonly string[];
  readonly validAfter: bigint;
  readonly validBefore: bigint;
  readonly criticalOptions: readonly string[];
  readonly extensions: readonly string[];
  /** The CA's plain public key blob (what a cert-authority line must carry). */
  readonly signatureKeyType: PlainKeyTypeName;
  readonly signatureKeyBlob: Uint8Array;
}

export interface ParsedCertificate {
  readonly material: KeyMaterial;
  readonly bits: number;
  /** The key fields without nonce or certificate parts: with the plain type, the plain key blob. */
  readonly plainBody: Uint8Array;
  readonly details: CertificateDetails;
}

const bad = (what: string): PublicKeyError => codedError('MALFORMED_CERTIFICATE', `certificate: ${what}`);

/**
 * Parses a certificate body (everything after its type string) like sshd's cert_parse, including
 * the check that the CA signature verifies. `blob` is the whole certificate (signature coverage).
 */
export function parseCertificate(
  blob: Uint8Array,
  reader: SshReader,
  algorithm: KeyAlgorithm,
): Result<ParsedCertificate, PublicKeyError> {
  if (reader.string() === null) return err(bad('nonce is truncated'));
  const bodyStart = reader.position;
  const body = parseKeyBody(reader, algorithm);
  if (!body.ok) return body;
  const bodyBytes = blob.subarray(bodyStart, reader.position);
  const serial = reader.u64();
  const type = reader.u32();
  const keyId = reader.cstring();
  const principalsBlob = reader.string();
  const validAfter = reader.u64();
  const validBefore = reader.u64();
  const critical = reader.string();
  const extensions = reader.string();
  const reserved = reader.string();
  const signatureKeyBlob = reader.string();
  const signedLength = reader.position;
  const signature = reader.string();
  if (
    serial === null ||
    type === null ||
    keyId === null ||
    principalsBlob === null ||
    validAfter === null ||
    validBefore === null ||
    critical === null ||
    extensions === null ||
    reserved === null ||
    signatureKeyBlob === null ||
    signature === null
  )
    return err(bad('a field is truncated or holds a NUL'));
  if (reader.remaining !== 0)
    return err(codedError('TRAILING_DATA', 'certificate: bytes after the signature'));
  if (type !== CERT_TYPE_USER && type !== CERT_TYPE_HOST)
    return err(codedError('UNKNOWN_CERT_TYPE', `certificate: type ${type} is neither user (1) nor host (2)`));
  const principals = readPrincipals(principalsBlob);
  if (!principals.ok) return principals;
  const criticalNames = readOptionNames(critical, 'critical options');
  if (!criticalNames.ok) return criticalNames;
  const extensionNames = readOptionNames(extensions, 'extensions');
  if (!extensionNames.ok) return extensionNames;
  const ca = parseSignatureKey(signatureKeyBlob);
  if (!ca.ok) return ca;
  const verified = verifySshSignature(ca.value.material, signature, blob.subarray(0, signedLength));
  if (!verified.ok) return verified;
  return ok({
    material: body.value.material,
    bits: body.value.bits,
    plainBody: bodyBytes,
    details: {
      serial,
      certType: type === CERT_TYPE_USER ? 'user' : 'host',
      keyId,
      principals: principals.value,
      validAfter,
      validBefore,
      criticalOptions: criticalNames.value,
      extensions: extensionNames.value,
      signatureKeyType: ca.value.type,
      signatureKeyBlob,
    },
  });
}

function readPrincipals(blob: Uint8Array): Result<string[], PublicKeyError> {
  const reader = new SshReader(blob);
  const principals: string[] = [];
  while (reader.remaining > 0) {
    if (principals.length >= CERT_MAX_PRINCIPALS)
      return err(
        codedError('TOO_MANY_PRINCIPALS', `certificate: more than ${CERT_MAX_PRINCIPALS} principals`),
      );
    const principal = reader.cstring();
    if (principal === null) return err(bad('a principal is truncated or holds a NUL'));
    principals.push(principal);
  }
  return ok(principals);
}

function readOptionNames(blob: Uint8Array, what: string): Result<string[], PublicKeyError> {
  const reader = new SshReader(blob);
  const names: string[] = [];
  while (reader.remaining > 0) {
    const name = reader.cstring();
    if (name === null || reader.string() === null) return err(bad(`${what} are malformed`));
    names.push(name);
  }
  return ok(names);
}

function parseSignatureKey(
  blob: Uint8Array,
): Result<{ type: PlainKeyTypeName; material: KeyMaterial }, PublicKeyError> {
  const reader = new SshReader(blob);
  const typeName = reader.cstring();
  if (typeName === null) return err(bad('CA key is malformed'));
  const info = blobKeyType(typeName);
  if (info === undefined)
    return err(
      codedError(
        'UNSUPPORTED_SIGNATURE',
        `certificate: CA key type ${JSON.stringify(typeName.slice(0, 64))} is not supported`,
      ),
    );
  if (info.certificate)
    return err(codedError('INVALID_CA_KEY', 'certificate: the CA key is itself a certificate'));
  const body = parseKeyBody(reader, info.algorithm);
  if (!body.ok) return err(codedError('INVALID_CA_KEY', `certificate: CA key: ${body.error.message}`));
  if (reader.remaining !== 0) return err(codedError('INVALID_CA_KEY', 'certificate: bytes after the CA key'));
  return ok({ type: info.plain, material: body.value.material });
}
