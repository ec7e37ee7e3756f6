/**
 * Does a `from` pattern let every client in? sshd's `from=` matches the client's address (and,
 * with UseDNS, its name) against `*`/`?` globs and CIDR blocks, so `*`, `?*`, `*.*`,
 * `0.0.0.0/0` and `::/0` restrict nothing. The check is against witness addresses from both ends
 * of each range: a pattern that matches all of them is treated as matching everything. It can
 * only err towards a warning, never towards silence for the patterns people write.
 */
const IPV4_WITNESSES = [
  '0.0.0.0',
  '1.2.3.4',
  '9.9.9.9',
  '10.0.0.1',
  '100.64.1.10',
  '192.168.122.1',
  '255.255.255.255',
];
const IPV6_WITNESSES = [
  '::',
  '::1',
  'fe80::1',
  '2001:db8::10',
  '1:2:3:4:5:6:7:8',
  'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
];

export interface FromCoverage {
  readonly allIPv4: boolean;
  readonly allIPv6: boolean;
}

export function fromCoverage(pattern: string): FromCoverage {
  if (pattern.startsWith('!')) return { allIPv4: false, allIPv6: false };
  const slash = pattern.indexOf('/');
  if (slash >= 0) {
    const zero = pattern.slice(slash + 1) === '0';
    const v6 = pattern.includes(':');
    return { allIPv4: zero && !v6, allIPv6: zero && v6 };
  }
  return {
    allIPv4: IPV4_WITNESSES.every((a) => globMatches(pattern, a)),
    allIPv6: IPV6_WITNESSES.every((a) => globMatches(pattern, a)),
  };
}

/** sshd's match_pattern: `*` any run of characters, `?` exactly one; case-insensitive as for names. */
export function globMatches(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  let pi = 0;
  let ti = 0;
  let starP = -1;
  let starT = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      pi += 1;
      ti += 1;
    } else if (pi < p.length && p[pi] === '*') {
      starP = pi;
      starT = ti;
      pi += 1;
    } else if (starP >= 0) {
      pi = starP + 1;
      starT += 1;
      ti = starT;
    } else return false;
  }
  while (pi < p.length && p[pi] === '*') pi += 1;
  return pi === p.length;
}
