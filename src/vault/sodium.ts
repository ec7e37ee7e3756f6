/**
 * libsodium is loaded only when a vault operation needs it: every psm command registers at start-up
 * and `psm keys inspect` must start fast, so nothing at module top level may pull the WASM in.
 */
type Sodium = typeof import('libsodium-wrappers-sumo');

let loading: Promise<Sodium> | undefined;

export function loadSodium(): Promise<Sodium> {
  loading ??= (async () => {
    const module = await import('libsodium-wrappers-sumo');
    const sodium = (module.default ?? module) as Sodium;
    await sodium.ready;
    return sodium;
  })();
  return loading;
}

export type { Sodium };
