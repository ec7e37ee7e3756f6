export { loadConfig, loadConfigWithText, parseConfigText, MAX_CONFIG_BYTES } from './config.js';
export { ensureSecret, type EnsuredSecret } from './ensure-secret.js';
export { describeVaultError, type VaultError, type VaultErrorCode } from './errors.js';
export { initVault, type InitOptions, type InitReport } from './init.js';
export { DEFAULT_LOCATION, LOCATION_ENV, layoutOf, resolveLocation, type Layout } from './layout.js';
export { DEFAULT_KDF_COST, KDF_COSTS, type KdfCost } from './master-key.js';
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
