import { describe, expect, it } from 'vitest';
import { applyLineEdits, indexLines, lineOf } from '../../src/vault/toml-lines.js';

const TEXT = [
  '# a comment the admin wrote',
  '[vault]',
  'key_id = "aaaa"',
  '',
  '[hypervisor]',
  'kind = "qemu"   # trailing comment',
  'notes = """',
  '[not-a-table]',
  'kind = "inside a multi-line string"',
  '"""',
  '',
  '[pool]',
  'max_vms = 4',
  '',
].join('\n');

describe('indexLines / lineOf', () => {
  it('finds keys and tables, skipping multi-line strings', () => {
    const index = indexLines(TEXT);
    expect(lineOf(index, 'hypervisor.kind')).toBe(6);
    expect(lineOf(index, 'pool.max_vms')).toBe(13);
    expect(lineOf(index, 'pool')).toBe(12);
    expect(lineOf(index, 'pool.keep_free')).toBe(12);
    expect(index.tables.has('not-a-table')).toBe(false);
    expect(lineOf(index, 'nowhere.key')).toBeUndefined();
  });
});

describe('applyLineEdits', () => {
  it('replaces, inserts and removes single lines and keeps the comments', () => {
    const edited = applyLineEdits(
      TEXT,
      [
        { table: 'vault', key: 'key_id', toml: '"bbbb"', parsed: 'bbbb' },
        { table: 'hypervisor', key: 'password', toml: '"psm-sealed:x"', parsed: 'psm-sealed:x' },
        { table: 'secrets', key: 'token', toml: '"psm-sealed:y"', parsed: 'psm-sealed:y' },
        { table: 'pool', key: 'max_vms', toml: undefined },
      ],
      'virtual.conf',
    );
    expect(edited.ok).toBe(true);
    if (!edited.ok) return;
    expect(edited.value).toContain('# a comment the admin wrote');
    expect(edited.value).toContain('key_id = "bbbb"');
    expect(edited.value).toContain('kind = "qemu"   # trailing comment');
    expect(edited.value).not.toContain('max_vms');
    expect(edited.value).toMatch(/\[secrets\]\ntoken = "psm-sealed:y"\n$/);
    expect(indexLines(edited.value).keys.get('hypervisor.password')).toBeGreaterThan(6);
  });

  it('refuses an edit it cannot prove (a dotted key defines the value elsewhere)', () => {
    const dotted = 'hypervisor.password = "plain"\n\n[worker]\nx = 1\n';
    const edited = applyLineEdits(
      dotted,
      [{ table: 'hypervisor', key: 'password', toml: '"new"', parsed: 'new' }],
      'f',
    );
    expect(edited.ok ? 'ok' : edited.error.code).toBe('CONFIG_INVALID');
  });
});
