import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { err, ok, type Result } from '../../common/result.js';

/**
 * The vSphere API's XML as psm reads it: every reply is untrusted input. Limits are checked
 * before parsing (size, nesting depth, no DTD, so no entity expansion), the parser runs with
 * entities and value coercion off, and the tree it gives is normalised to one shape: every
 * child element is an array, text is kept as text.
 */

/** The largest SOAP reply psm parses; a property listing of a few hundred VMs is well under it. */
export const MAX_SOAP_REPLY_BYTES = 8 * 1024 * 1024;
/** vSphere replies nest about 12 deep (envelope, body, result, objects, props, values); 64 is ample. */
export const MAX_XML_DEPTH = 64;

export interface XmlNode {
  /** Child elements by local name (namespace prefixes removed). */
  readonly children: ReadonlyMap<string, readonly XmlNode[]>;
  /** Attributes by local name (`type` for `xsi:type` and for ManagedObjectReference). */
  readonly attributes: ReadonlyMap<string, string>;
  readonly text: string;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: () => true,
});

/** Nesting depth by a single scan, so a deep reply is refused before the parser recurses. */
function depthWithin(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = text.indexOf('<'); i !== -1; i = text.indexOf('<', i + 1)) {
    const next = text.charCodeAt(i + 1);
    if (next === 0x2f /* / */) depth -= 1;
    else if (next !== 0x3f /* ? */ && next !== 0x21 /* ! */) {
      const close = text.indexOf('>', i);
      if (close === -1) return true; // truncated: the validator reports it
      if (text.charCodeAt(close - 1) !== 0x2f) depth += 1;
      if (depth > limit) return false;
    }
  }
  return true;
}

function normalise(value: unknown): XmlNode {
  const children = new Map<string, XmlNode[]>();
  const attributes = new Map<string, string>();
  let text = '';
  if (typeof value === 'string') return { children, attributes, text: value };
  if (typeof value !== 'object' || value === null) return { children, attributes, text: String(value) };
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (key === '#text') text = Array.isArray(item) ? item.join('') : String(item);
    else if (key.startsWith('@')) attributes.set(key.slice(1), String(item));
    else children.set(key, (Array.isArray(item) ? item : [item]).map(normalise));
  }
  return { children, attributes, text };
}

/** Parses one XML document within the limits; the message never quotes the input. */
export function parseXml(bytes: Uint8Array): Result<XmlNode, string> {
  if (bytes.length > MAX_SOAP_REPLY_BYTES)
    return err(`the reply is larger than ${MAX_SOAP_REPLY_BYTES} bytes`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return err('the reply is not valid UTF-8');
  }
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) return err('the reply has a DTD (refused: no entities)');
  if (!depthWithin(text, MAX_XML_DEPTH)) return err(`the reply nests deeper than ${MAX_XML_DEPTH}`);
  const valid = XMLValidator.validate(text);
  if (valid !== true)
    return err(`the reply is not well-formed XML (line ${valid.err.line}: ${valid.err.code})`);
  try {
    return ok(normalise(parser.parse(text)));
  } catch {
    return err('the reply could not be parsed');
  }
}

export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  return node?.children.get(name)?.[0];
}

export function childrenOf(node: XmlNode | undefined, name: string): readonly XmlNode[] {
  return node?.children.get(name) ?? [];
}

/** Follows a path of child names, first child at each step. */
export function path(node: XmlNode | undefined, ...names: string[]): XmlNode | undefined {
  let at = node;
  for (const name of names) at = child(at, name);
  return at;
}

export function textOf(node: XmlNode | undefined, name: string): string | undefined {
  const found = child(node, name);
  return found === undefined ? undefined : found.text;
}

/** The xsi:type (or a moref's type) of a node, without its namespace prefix. */
export function typeOf(node: XmlNode | undefined): string | undefined {
  const type = node?.attributes.get('type');
  return type === undefined ? undefined : type.replace(/^[^:]*:/, '');
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** XML 1.0 text: escaped, and characters XML cannot carry refused by the caller's check. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** True when every character can appear in XML 1.0 content. */
export function isXmlText(text: string): boolean {
  // eslint-disable-next-line no-control-regex -- the control characters XML 1.0 forbids
  if (/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/.test(text)) return false;
  // A lone surrogate has no UTF-8 form.
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}
