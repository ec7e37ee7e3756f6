// Step 8's grid nodes: psm runs one worker per application per node, so a POP-C++ application
// whose two objects run in two workers spans two grid nodes. Each is a psm location of its own
// in the demo's directory (psm init --policy-set popc: the POP-C++ main-node policy in place of the stand-in one,
// its own psm daemon on the same image); the application reserves a worker on each with one
// main-node key, and each node adds its worker to the tunnel map psm's $POPC_RSH reads
// (`psm popc tunnel-map`).
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon } from './steps-start.mjs';
import { toolkit } from './toolkit.mjs';

export const NODES = ['node-1', 'node-2'];
/** One object port per node (the POP-C++ main-node policy permits 2712-2715). */
export const OBJECT_PORTS = { 'node-1': 2712, 'node-2': 2713 };

/** psm init, the POP-C++ policies linted, psm daemon: one grid node, recorded in ctx.popcNodes. */
export async function startPopcNode(s, ctx, name) {
  const location = join(ctx.work, name);
  const vmDir = join(location, 'var', 'psm', 'vms');
  const tools = toolkit({ ...ctx, location, vmDir, label: name });
  const node = { name, label: name, location, vmDir, tools, daemon: undefined };
  ctx.popcNodes.push(node);
  // A POP-C++ grid's policies: the main-node one names POP-C++'s own popcobjrun, its argv shape
  // and its tunnel ports (policies/popc/main-node.yaml in place of the stand-in one).
  const init = await tools.psmJson(['init', '--policy-set', 'popc']);
  if (init.code !== 0) throw new Error(`psm init for ${name} failed: ${init.stderr.trim()}`);
  const policyDir = join(location, 'etc', 'psm-policies');
  const installed = await readFile(join(policyDir, 'main-node.yaml'));
  const popcPolicy = await readFile(join(ctx.root, 'policies', 'popc', 'main-node.yaml'));
  const lint = await tools.psm(['policy', 'lint', policyDir, '--strict']);
  s.check(
    lint.code === 0 && installed.equals(popcPolicy),
    `${name}: psm init --policy-set popc; policies/popc/main-node.yaml installed, all lint clean (--strict)`,
    lint.stdout.trim() || lint.stderr.trim(),
  );
  const serving = await startDaemon(ctx, node, { maxVms: 1, keepFree: 0 });
  s.check(
    existsSync(serving.socket),
    `${name}: psm daemon serves its socket (max_vms 1, keep_free 0)`,
    `pid ${serving.pid}, ${serving.socket.replace(`${ctx.work}/`, '')}`,
  );
  return node;
}

/** `psm reserve APP --key KEY.pub` on the node; the answer's host key checked against the pin. */
export async function reserveOn(s, node, app, key) {
  const { psmJson, fingerprints, pinned } = node.tools;
  const answer = await psmJson(['reserve', app, '--key', `${key}.pub`, '--wait', '900']);
  if (answer.code !== 0) {
    s.check(false, `${node.name}: ${app} gets a worker`, (answer.stdout + answer.stderr).trim());
    throw new Error(`psm reserve ${app} on ${node.name} failed`);
  }
  node.reserved = answer.json;
  const reserved = (await fingerprints(answer.json.hostKeys, `host-${node.name}`)).sort();
  const byName = (await pinned(answer.json.worker)).sort();
  s.check(
    reserved.length > 0 && JSON.stringify(byName) === JSON.stringify(reserved),
    `${node.name}: ${app} gets ${answer.json.worker} (ssh 127.0.0.1:${answer.json.ssh.port}), its host key pinned in ${node.name}'s known_hosts`,
    byName.join(' '),
  );
  return answer.json;
}

/**
 * `psm popc tunnel-map` on the node: adds its worker to the tunnel map psm's $POPC_RSH reads
 * (docs/popc.md), named as the program names its machines (od.url("node-1:2712")), with the
 * node's pinned known_hosts under the worker's name and the ports checked against the node's
 * main-node policy. One node after the other: each rewrites the same map.
 */
export async function addToTunnelMap(s, node, app, map, key) {
  const args = ['popc', 'tunnel-map', app, '--map', map, '--name', node.name, '--identity', key];
  const added = await node.tools.psmJson([...args, '--object-port', String(OBJECT_PORTS[node.name])]);
  const entry = added.json?.entry;
  s.fact(`popcMap.${node.name}`, { code: added.code, entry: entry ?? null });
  s.check(
    added.code === 0 &&
      entry?.hostKeyAlias === node.reserved.worker &&
      entry?.sshPort === node.reserved.ssh.port &&
      entry?.knownHostsFile === node.tools.knownHosts,
    `${node.name}: psm popc tunnel-map adds ${node.reserved.worker} (its pinned known_hosts, the policy's ports)`,
    entry === undefined
      ? added.stderr.trim()
      : `${entry.name} -> ssh ${entry.sshHost}:${entry.sshPort}, -L ${entry.objectPorts.join(',')}, -R ${entry.callbackPort},${entry.appservicePort}`,
  );
  if (added.code !== 0) throw new Error(`psm popc tunnel-map on ${node.name} failed`);
}

/**
 * How often the node's worker's sshd logged a login with the key (`Accepted publickey for popc
 * ... SHA256:FP`): sshd runs with -e under the guest's init, so its log is the VM's serial
 * console, which QEMU writes to console.log in the VM's directory.
 */
export async function loginsSeen(node, fingerprint) {
  const log = join(node.vmDir, node.reserved.worker, 'console.log');
  const text = await readFile(log, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.includes('Accepted publickey for popc') && l.includes(fingerprint))
    .length;
}
