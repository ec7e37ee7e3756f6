import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, type TestKeyPair } from '../helpers/keys.js';
import { tryPublicKeyLogin } from '../helpers/ssh-client.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';

// The harness every SSH conformance and policy proof stands on: if it let any key in, or none,
// every test built on it would prove nothing.
describe('real sshd test harness', () => {
  let sshd: TestSshd;
  let listed: TestKeyPair;
  let stranger: TestKeyPair;

  beforeAll(async () => {
    [sshd, listed, stranger] = await Promise.all([
      startSshd(),
      generateKeyPair('ed25519'),
      generateKeyPair('ed25519'),
    ]);
    await sshd.writeAuthorizedKeys(`${listed.publicLine}\n`);
  });
  afterAll(async () => sshd?.stop());

  it('accepts the key listed in authorized_keys and logs it', async () => {
    const offset = await sshd.logOffset();
    expect(await tryPublicKeyLogin(sshd, listed.privateKey)).toEqual({ accepted: true });
    await sshd.waitForLog(offset, /Accepted publickey for psmtest/);
  });

  it('refuses a key that is not listed', async () => {
    expect(await tryPublicKeyLogin(sshd, stranger.privateKey)).toEqual({ accepted: false });
  });

  it('reports bad key options in its log, and refuses the key', async () => {
    await sshd.writeAuthorizedKeys(`no-such-option ${listed.publicLine}\n`);
    const offset = await sshd.logOffset();
    expect(await tryPublicKeyLogin(sshd, listed.privateKey)).toEqual({ accepted: false });
    const log = await sshd.waitForLog(offset, /bad key options/);
    expect(log).toMatch(/authorized_keys:1: bad key options: unknown key option/);
    await sshd.writeAuthorizedKeys(`${listed.publicLine}\n`);
  });
});
