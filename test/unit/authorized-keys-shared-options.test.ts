/**
 * Key lines without options share one frozen default KeyOptions (a parsed file would otherwise
 * hold a copy per line): nothing can write to it, and options parsed for one line never show up
 * in another line's.
 */
import { describe, expect, it } from 'vitest';
import {
  defaultKeyOptions,
  parseAuthorizedKeysFile,
  type AuthorizedKeysEntry,
  type KeyOptions,
} from '../../src/authorized-keys/index.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKXMQ7uLz/4KK698PkY9sWAo3Q7DEq4+uLi9HsCoumDN';

function optionsOf(text: string): KeyOptions[] {
  return parseAuthorizedKeysFile(text).map((row) => {
    if (!row.result.ok) throw new Error(`line ${row.line}: ${row.result.error.code}`);
    const entry: AuthorizedKeysEntry = row.result.value;
    if (entry.kind !== 'key') throw new Error(`line ${row.line} is not a key line`);
    return entry.options;
  });
}

describe('authorized_keys: shared default options', () => {
  it('gives lines without options the frozen defaults, deeply', () => {
    const [first, second] = optionsOf(`${KEY} a\n${KEY} b\n`);
    expect(first).toBe(second);
    expect(first).toEqual(defaultKeyOptions());
    for (const part of [first, first!.permit, first!.environment, first!.permitOpen, first!.expiryTime])
      expect(Object.isFrozen(part)).toBe(true);
    expect(() => {
      (first as { restrict: boolean }).restrict = true;
    }).toThrow(TypeError);
    expect(() => (first!.environment as string[]).push('A=1')).toThrow(TypeError);
    expect(() => {
      (first!.permit as { pty: boolean }).pty = false;
    }).toThrow(TypeError);
  });

  it('keeps each line with options to itself, and the defaults untouched', () => {
    const [restricted, withPty, plain, listed, other] = optionsOf(
      [
        `restrict ${KEY}`,
        `restrict,pty ${KEY}`,
        KEY,
        `environment="A=1",permitopen="h:1",expiry-time="20991231" ${KEY}`,
        `environment="B=2",no-pty ${KEY}`,
      ].join('\n'),
    );
    expect(restricted!.permit.pty).toBe(false);
    expect(withPty!.permit).toEqual({
      portForwarding: false,
      agentForwarding: false,
      x11Forwarding: false,
      pty: true,
      userRc: false,
    });
    expect(listed!.environment).toEqual(['A=1']);
    expect(listed!.permitOpen).toEqual(['h:1']);
    expect(listed!.expiryTime).toEqual(['20991231']);
    expect(other!.environment).toEqual(['B=2']);
    expect(other!.permitOpen).toEqual([]);
    expect(other!.permit.pty).toBe(false);
    expect(other!.permit.agentForwarding).toBe(true);
    expect(plain).toEqual(defaultKeyOptions());
    expect(plain!.permit.pty).toBe(true);
    expect(plain!.environment).toEqual([]);
  });
});
