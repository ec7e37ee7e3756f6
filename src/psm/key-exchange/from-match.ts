import { BlockList, isIP } from 'node:net';
import { globMatches } from '../policy/from-match-all.js';

/**
 * sshd's `from=` verdict for one client address (match_host_and_ip with UseDNS no, as on psm's
 * workers): a negated pattern that matches refuses, else any matching pattern admits. CIDR
 * entries match by prefix, other entries as `*`/`?` globs against the address text.
 */
export function addressMatchesFrom(address: string, patterns: readonly string[]): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  let admitted = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    if (!patternMatches(pattern, address, family)) continue;
    if (negated) return false;
    admitted = true;
  }
  return admitted;
}

function patternMatches(pattern: string, address: string, family: number): boolean {
  const slash = pattern.indexOf('/');
  if (slash < 0) return globMatches(pattern, address);
  const network = pattern.slice(0, slash);
  const bits = Number(pattern.slice(slash + 1));
  const netFamily = isIP(network);
  if (netFamily !== family || !Number.isInteger(bits)) return false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const list = new BlockList();
  list.addSubnet(network, bits, type);
  return list.check(address, type);
}
