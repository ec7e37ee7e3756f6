import { escapeXml } from './xml.js';

/**
 * The few request envelopes psm sends, written by hand (vim25 is a document/literal service:
 * element order follows the WSDL's sequences, so builders keep it). Values are escaped here;
 * callers check names against their patterns before they get this far.
 */

export interface MoRef {
  readonly type: string;
  readonly value: string;
}

/** An element of a request body: text, a managed object reference, nested elements, or nothing. */
export type XmlValue = string | number | boolean | MoRef | XmlElement[] | undefined;

export interface XmlElement {
  readonly name: string;
  readonly value: XmlValue;
  /** xsi:type, for polymorphic fields (OptionValue values, spec subclasses). */
  readonly xsiType?: string;
}

export function el(name: string, value: XmlValue, xsiType?: string): XmlElement {
  return xsiType === undefined ? { name, value } : { name, value, xsiType };
}

function isMoRef(value: XmlValue): value is MoRef {
  return typeof value === 'object' && !Array.isArray(value);
}

export function renderElement(element: XmlElement): string {
  const { name, value, xsiType } = element;
  if (value === undefined) return '';
  const typeAttr = xsiType === undefined ? '' : ` xsi:type="${escapeXml(xsiType)}"`;
  if (isMoRef(value)) return `<${name} type="${escapeXml(value.type)}">${escapeXml(value.value)}</${name}>`;
  if (Array.isArray(value)) return `<${name}${typeAttr}>${value.map(renderElement).join('')}</${name}>`;
  return `<${name}${typeAttr}>${escapeXml(String(value))}</${name}>`;
}

export const OPEN =
  '<?xml version="1.0" encoding="UTF-8"?>' +
  '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"' +
  ' xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
  '<soapenv:Body>';
export const CLOSE = '</soapenv:Body></soapenv:Envelope>';

/** The request for `method` on `target` with its arguments in WSDL order. */
export function envelope(method: string, target: MoRef, args: readonly XmlElement[]): Buffer {
  const body = `<${method} xmlns="urn:vim25">${renderElement(el('_this', target))}${args.map(renderElement).join('')}</${method}>`;
  return Buffer.from(OPEN + body + CLOSE, 'utf8');
}

/**
 * An envelope with a secret inside, built on bytes: the secret is escaped byte by byte into a
 * buffer the caller wipes, and never becomes a JavaScript string. `secretAt` is the index in
 * `args` of the element whose text is the secret (its own value is ignored).
 */
export function envelopeWithSecret(
  method: string,
  target: MoRef,
  args: readonly XmlElement[],
  secretAt: number,
  secret: Uint8Array,
): Buffer {
  const before = args.slice(0, secretAt).map(renderElement).join('');
  const name = (args[secretAt] as XmlElement).name;
  const after = args
    .slice(secretAt + 1)
    .map(renderElement)
    .join('');
  const head = Buffer.from(
    `${OPEN}<${method} xmlns="urn:vim25">${renderElement(el('_this', target))}${before}<${name}>`,
    'utf8',
  );
  const tail = Buffer.from(`</${name}>${after}</${method}>${CLOSE}`, 'utf8');
  const escaped = escapeSecret(secret);
  const out = Buffer.concat([head, escaped, tail]);
  escaped.fill(0);
  return out;
}

const SECRET_ESCAPES: Record<number, Buffer> = {
  0x26: Buffer.from('&amp;'),
  0x3c: Buffer.from('&lt;'),
  0x3e: Buffer.from('&gt;'),
  0x22: Buffer.from('&quot;'),
  0x27: Buffer.from('&apos;'),
};

export function escapeSecret(secret: Uint8Array): Buffer {
  let size = 0;
  for (const b of secret) size += SECRET_ESCAPES[b]?.length ?? 1;
  const out = Buffer.alloc(size);
  let at = 0;
  for (const b of secret) {
    const escape = SECRET_ESCAPES[b];
    if (escape === undefined) out[at++] = b;
    else at += escape.copy(out, at);
  }
  return out;
}

/**
 * A secret psm can send: no byte XML 1.0 forbids (checked on bytes, so the secret never becomes
 * a string; malformed UTF-8 is the server's to refuse, as a wrong password would be).
 */
export function isSendableSecret(secret: Uint8Array): boolean {
  if (secret.length === 0) return false;
  for (const b of secret)
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f) return false;
  return true;
}
