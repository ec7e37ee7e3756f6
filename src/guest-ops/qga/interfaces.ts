import { isIPv4, isIPv6 } from 'node:net';
import { err, ok, type Result } from '../../common/result.js';
import type { GuestAddress } from '../guest-ops.js';
import { isRecord, isSafeInt } from '../wire/untrusted-json.js';

/**
 * guest-network-get-interfaces, parsed as untrusted input, and the choice of "the" address of a
 * worker (what VIX called ReadVariable "ip").
 */

/** A worker has a handful of interfaces; a guest reporting thousands is broken or hostile. */
export const MAX_INTERFACES = 64;
export const MAX_ADDRESSES_PER_INTERFACE = 64;
const MAX_NAME_CHARS = 64;

export interface GuestInterface {
  readonly name: string;
  readonly addresses: readonly GuestAddress[];
}

export function decodeInterfaces(value: unknown): Result<GuestInterface[], string> {
  if (!Array.isArray(value)) return err('the interface list is not an array');
  if (value.length > MAX_INTERFACES) return err(`the guest reports more than ${MAX_INTERFACES} interfaces`);
  const out: GuestInterface[] = [];
  for (const item of value) {
    if (!isRecord(item) || typeof item.name !== 'string') return err('an interface has no name');
    const name = item.name;
    if (name.length === 0 || name.length > MAX_NAME_CHARS || !/^[\x21-\x7e]+$/.test(name))
      return err('an interface name is not printable ASCII of a sane length');
    const list = item['ip-addresses'] ?? [];
    if (!Array.isArray(list) || list.length > MAX_ADDRESSES_PER_INTERFACE)
      return err(`interface ${name} has a bad address list`);
    const addresses: GuestAddress[] = [];
    for (const entry of list) {
      const address = decodeAddress(entry, name);
      if (!address.ok) return address;
      addresses.push(address.value);
    }
    out.push({ name, addresses });
  }
  return ok(out);
}

function decodeAddress(entry: unknown, interfaceName: string): Result<GuestAddress, string> {
  if (!isRecord(entry)) return err(`interface ${interfaceName} has an address that is not an object`);
  const type = entry['ip-address-type'];
  const address = entry['ip-address'];
  const prefix = entry.prefix;
  if (typeof address !== 'string' || !isSafeInt(prefix))
    return err(`interface ${interfaceName} has a bad address`);
  if (type === 'ipv4' && isIPv4(address) && prefix >= 0 && prefix <= 32)
    return ok({ address, family: 'ipv4', prefix, interfaceName });
  if (type === 'ipv6' && isIPv6(address) && prefix >= 0 && prefix <= 128)
    return ok({ address, family: 'ipv6', prefix, interfaceName });
  return err(`interface ${interfaceName} has an address psm does not understand`);
}

/**
 * The worker's address: the first IPv4 address of the first non-loopback interface, skipping
 * link-local (169.254/16, which means DHCP has not answered); IPv6 global addresses only when no
 * IPv4 address exists. `preferInterface` picks a named interface first.
 */
export function pickAddress(
  interfaces: readonly GuestInterface[],
  preferInterface?: string,
): GuestAddress | undefined {
  const ordered =
    preferInterface === undefined
      ? interfaces
      : [
          ...interfaces.filter((i) => i.name === preferInterface),
          ...interfaces.filter((i) => i.name !== preferInterface),
        ];
  const usable = ordered.filter((i) => i.name !== 'lo').flatMap((i) => i.addresses.filter(isUsable));
  return usable.find((a) => a.family === 'ipv4') ?? usable.find((a) => a.family === 'ipv6');
}

function isUsable(address: GuestAddress): boolean {
  if (address.family === 'ipv4')
    return !address.address.startsWith('127.') && !address.address.startsWith('169.254.');
  const lower = address.address.toLowerCase();
  return lower !== '::1' && !lower.startsWith('fe80:');
}
