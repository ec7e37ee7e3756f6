/** `explainPolicy`: every grant and every refusal of a policy shows up in plain words. */
import { describe, expect, it } from 'vitest';
import { explainPolicy, formatExplanation, parsePolicy } from '../../src/psm/policy/index.js';
import { basePolicyDocument, policyYaml, type PolicyDocument } from '../helpers/policy-fixtures.js';

function explain(doc: PolicyDocument) {
  const parsed = parsePolicy(policyYaml(doc), 'e.yaml');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  return explainPolicy(parsed.value);
}

describe('policy explain', () => {
  it('lists logins, objects, tunnels and expiry as grants, and everything else as refusals', () => {
    const e = explain({
      ...basePolicyDocument(),
      from: ['10.0.0.0/8', '!10.1.2.3', 'grid-?.example'],
      objects: ['/srv/objects/', '/opt/one.obj'],
      permitOpen: ['*:2711'],
      allowWildcard: true,
      permitListen: ['localhost:40000'],
      expiry: '36h',
    });
    expect(e.can).toStrictEqual([
      'Log in only from addresses in 10.0.0.0/8, addresses or names matching grid-?.example, but never from 10.1.2.3.',
      expect.stringContaining('only these: any file below /srv/objects/; /opt/one.obj.'),
      'Open tunnels through the worker (like "ssh -L") to any host on port 2711 (as seen from the worker), and to nowhere else.',
      'Ask the worker to listen and tunnel back (like "ssh -R") on: localhost on port 40000.',
      "Be used for 36 hours after psm writes it; after that the worker's SSH server refuses it.",
    ]);
    expect(e.cannot.join('\n')).toMatch(/shell.*\n.*terminal.*\n.*agent or X11.*\n.*environment variables/);
    expect(e.workerRequirements.join('\n')).toContain('AllowStreamLocalForwarding no');
  });

  it('says when a key can open no tunnel, start nothing, log in from anywhere and never expires', () => {
    const doc: PolicyDocument = { ...basePolicyDocument(), objects: [], permitOpen: [] };
    delete doc.from;
    delete doc.expiry;
    const e = explain(doc);
    expect(e.can).toStrictEqual([
      'Log in from anywhere (the policy has no "from" list).',
      'Be used with no end date (the policy has no "expiry").',
    ]);
    expect(e.cannot).toContain('Open any tunnel (port forwarding is switched off).');
    expect(e.cannot[0]).toMatch(/^Start any program: every command it sends is refused by the gate/);
    expect(e.workerRequirements.join('\n')).not.toContain('AllowStreamLocalForwarding');
  });

  it('formats for a terminal: description lines kept, nothing wider than 100 columns', () => {
    const text = formatExplanation(
      explain({ ...basePolicyDocument(), description: `First line.\nSecond line ${'word '.repeat(40)}` }),
    );
    expect(text).toContain('\nFirst line.\nSecond line word');
    expect(text.split('\n').every((line) => line.length <= 100)).toBe(true);
  });
});

describe('issue 9 defect 6: explain never says "only from" for a match-all list', () => {
  it('says "from anywhere" for * and for 0.0.0.0/0 with ::/0', () => {
    for (const from of [['*'], ['?*'], ['0.0.0.0/0', '::/0']]) {
      const parsed = parsePolicy(policyYaml({ ...basePolicyDocument(), from }), 'p.yaml');
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
      const login = explainPolicy(parsed.value).can[0] ?? '';
      expect(login).toMatch(/^Log in from anywhere/);
      expect(login).not.toContain('only from');
    }
  });
});
