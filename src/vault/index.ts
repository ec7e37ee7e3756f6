export { loadConfig, loadConfigWithText, parseConfigText, MAX_CONFIG_BYTES } from './config.js';
export { ensureSecret, openExistingSecret, type EnsuredSecret } from './ensure-secret.js';
export { describeVaultError, type VaultError, type VaultErrorCode } from './errors.js';
export { initVault, type InitOptions, type InitReport } from './init.js';
export {
  DEFAULT_LOCATION,
  LOCATION_ENV,
  checkLocation,
  layoutOf,
  locationFrom,
  resolveLocation,
  type Layout,
} from './layout.js';
export { MAX_LEGACY_BYTES, readLegacyFile } from './legacy.js';
export { DEFAULT_KDF_COST, KDF_COSTS, type KdfCost } from './master-key.js';
export { DEFAULT_LOCK_WAIT_MS } from './lock.js';
export { type WriteOptions } from './write.js';
export { rekeyVault, type RekeyResult, type RekeyTarget } from './rekey.js';
export { isSecretPath, type VirtualConf, type HypervisorKind } from './schema-types.js';
export { setSecret, checkSecret, type SetResult } from './set-secret.js';
export { unlockKey, type KeyOptions, type VaultKey } from './unlock.js';
export {
  listSecrets,
  openSecret,
  openVault,
  verifyVault,
  type OpenVault,
  type SecretReport,
} from './vault.js';
