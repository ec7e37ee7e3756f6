import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeInterfaces, pickAddress } from '../../src/guest-ops/qga/interfaces.js';
import {
  decodeExecStarted,
  decodeExecStatus,
  decodeFileHandle,
  decodeFileRead,
  decodeFileWrite,
  parseAgentReply,
} from '../../src/guest-ops/qga/replies.js';
import type { Result } from '../../src/common/result.js';

interface Vector {
  name: string;
  decoder: string;
  line: string;
  expect: 'ok' | 'error';
  value?: unknown;
}

const { vectors } = JSON.parse(readFileSync(new URL('./qga/replies.json', import.meta.url), 'utf8')) as { vectors: Vector[] };

/** Decodes a vector's line and turns bytes into text so results compare with the JSON file. */
function decode(vector: Vector): Result<unknown, string> {
  if (vector.decoder === 'reply') return parseAgentReply(Buffer.from(vector.line));
  const value: unknown = JSON.parse(vector.line);
  switch (vector.decoder) {
    case 'execStarted':
      return decodeExecStarted(value);
    case 'execStatus': {
      const status = decodeExecStatus(value, 1024);
      if (!status.ok || !status.value.exited) return status;
      return { ok: true, value: { ...status.value, stdout: status.value.stdout.toString(), stderr: status.value.stderr.toString() } };
    }
    case 'fileHandle':
      return decodeFileHandle(value);
    case 'fileRead': {
      const chunk = decodeFileRead(value, 8);
      return chunk.ok ? { ok: true, value: { bytes: chunk.value.bytes.toString(), eof: chunk.value.eof } } : chunk;
    }
    case 'fileWrite':
      return decodeFileWrite(value);
    case 'interfaces': {
      const list = decodeInterfaces(value);
      return list.ok ? { ok: true, value: { picked: pickAddress(list.value)?.address ?? null } } : list;
    }
    default:
      throw new Error(`unknown decoder ${vector.decoder}`);
  }
}

describe('guest agent reply vectors', () => {
  it('has vectors', () => expect(vectors.length).toBeGreaterThan(30));
  for (const vector of vectors) {
    it(`${vector.expect}: ${vector.decoder}: ${vector.name}`, () => {
      const result = decode(vector);
      if (vector.expect === 'ok') expect(result).toEqual({ ok: true, value: vector.value });
      else expect(result.ok).toBe(false);
    });
  }
});
