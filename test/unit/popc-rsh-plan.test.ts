/**
 * psm's $POPC_RSH planner on the argv POP-C++ 2.5's real client passed to $POPC_RSH (captured from
 * psmsum under popcrun, test/vectors/popc/gate-popc-cases.json has the same run): the ssh command
 * opens only the documented tunnels, rewrites the callback and appservice to the worker's tunnel
 * ports, and refuses what the tunnels cannot carry.
 */
import { describe, expect, it } from 'vitest';
import { parseTunnelMap, planLaunch, type TunnelMap } from '../../src/psm/popc-rsh/index.js';

const CAPTURED = [
  'w1',
  '/work/wt/popc/.popc/root/usr/local/popc/services/popcobjrun',
  '/usr/local/popc/objects/psmsum.obj',
  '-callback=socket://127.0.0.1:50609',
  '-object=Counter',
  '-appservice=socket://127.0.0.1:54813',
  '-jobservice=127.0.0.1:2711',
  '-socket_port=2712',
  '-cwd=/tmp/run1',
];

const WORKER = {
  name: 'w1',
  sshHost: '127.0.0.1',
  sshPort: 40022,
  user: 'popc',
  identityFile: '/srv/psm/app_ed25519',
  knownHostsFile: '/srv/psm/known_hosts',
  hostKeyAlias: 'w1',
  objectPorts: [2712, 2713],
  callbackPort: 2720,
  appservicePort: 2721,
};

function map(workers: unknown[] = [WORKER]): TunnelMap {
  const parsed = parseTunnelMap(JSON.stringify({ workers }));
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

describe('popc-rsh planLaunch', () => {
  it('turns the captured client argv into one ssh with exactly the three documented tunnels', () => {
    const plan = planLaunch(CAPTURED, map());
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    const args = plan.value.sshArgs;
    const flagged = (flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));
    expect(flagged('-L')).toStrictEqual(['127.0.0.1:2712:127.0.0.1:2712']);
    expect(flagged('-R')).toStrictEqual(['127.0.0.1:2720:127.0.0.1:50609', '127.0.0.1:2721:127.0.0.1:54813']);
    expect(flagged('-i')).toStrictEqual(['/srv/psm/app_ed25519']);
    expect(flagged('-p')).toStrictEqual(['40022']);
    for (const option of [
      'StrictHostKeyChecking=yes',
      'UserKnownHostsFile=/srv/psm/known_hosts',
      'HostKeyAlias=w1',
      'ExitOnForwardFailure=yes',
      'BatchMode=yes',
    ])
      expect(flagged('-o')).toContain(option);
    expect(args).not.toContain('-A');
    expect(args).not.toContain('-X');
    const at = args.indexOf('popc@127.0.0.1');
    expect(args.slice(at + 1)).toStrictEqual([
      'popcobjrun',
      '/usr/local/popc/objects/psmsum.obj',
      '-callback=socket://127.0.0.1:2720',
      '-object=Counter',
      '-appservice=socket://127.0.0.1:2721',
      '-jobservice=127.0.0.1:2711',
      '-socket_port=2712',
      '-cwd=/tmp/run1',
    ]);
  });

  it('refuses what the tunnels cannot carry, and runs nothing', () => {
    const refused = (argv: string[], m: TunnelMap = map()) => {
      const plan = planLaunch(argv, m);
      return plan.ok ? 'planned' : plan.error.code;
    };
    const without = (prefix: string) => CAPTURED.filter((w) => !w.startsWith(prefix));
    expect(refused(['w2', ...CAPTURED.slice(1)])).toBe('POPC_RSH_UNKNOWN_WORKER');
    expect(refused(['popc@w1', ...CAPTURED.slice(1)])).toBe('POPC_RSH_UNKNOWN_WORKER');
    expect(refused(['w1', '/bin/sh', ...CAPTURED.slice(2)])).toBe('POPC_RSH_USAGE');
    expect(refused(['w1'])).toBe('POPC_RSH_USAGE');
    expect(refused(without('-socket_port='))).toBe('POPC_RSH_BAD_ARGUMENT');
    expect(refused([...without('-socket_port='), '-socket_port=22'])).toBe('POPC_RSH_BAD_ARGUMENT');
    expect(refused([...CAPTURED, '-socket_port=2713'])).toBe('POPC_RSH_BAD_ARGUMENT');
    expect(refused([...without('-callback='), '-callback=socket://10.0.0.9:50609'])).toBe(
      'POPC_RSH_BAD_ARGUMENT',
    );
    expect(refused([...without('-callback='), '-callback=socket://127.0.0.1:0'])).toBe(
      'POPC_RSH_BAD_ARGUMENT',
    );
    expect(refused([...CAPTURED, '-appservice=socket://127.0.0.1:1'])).toBe('POPC_RSH_BAD_ARGUMENT');
  });

  it('parses the tunnel map strictly', () => {
    const bad = (workers: unknown[]) => {
      const parsed = parseTunnelMap(JSON.stringify({ workers }));
      return parsed.ok ? 'ok' : parsed.error.code;
    };
    expect(bad([WORKER])).toBe('ok');
    expect(bad([])).toBe('POPC_RSH_CONFIG_INVALID');
    expect(bad([WORKER, WORKER])).toBe('POPC_RSH_CONFIG_INVALID');
    expect(bad([{ ...WORKER, extra: 1 }])).toBe('POPC_RSH_CONFIG_INVALID');
    expect(bad([{ ...WORKER, identityFile: 'relative' }])).toBe('POPC_RSH_CONFIG_INVALID');
    expect(bad([{ ...WORKER, objectPorts: [2720] }])).toBe('POPC_RSH_CONFIG_INVALID');
    expect(bad([{ ...WORKER, sshPort: 70000 }])).toBe('POPC_RSH_CONFIG_INVALID');
    expect(bad([{ ...WORKER, user: 'root;id' }])).toBe('POPC_RSH_CONFIG_INVALID');
    expect(parseTunnelMap('{').ok).toBe(false);
    expect(parseTunnelMap('{"workers":[],"x":1}').ok).toBe(false);
  });
});
