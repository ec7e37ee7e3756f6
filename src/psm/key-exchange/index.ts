export * from './errors.js';
export * from './limits.js';
export { compareKeyFile, type KeyFileFinding, type KeyFileFindingCode } from './check-file.js';
export { writeAuthorizedKeys, verifyAuthorizedKeys } from './apply.js';
export { addressMatchesFrom } from './from-match.js';
export * from './guest-paths.js';
export { type ApplicationKeys } from './input.js';
export {
  grantApplication,
  installAdminKey,
  reapplyIntendedKeys,
  revokeApplication,
  setAdminKeys,
} from './key-exchange.js';
export { checkAdminFrom, loadRolePolicies, ROLE_FILES, type RolePolicies } from './policies.js';
export {
  KEYS_RECORD_FORMAT,
  keysRecordPath,
  readIntendedKeys,
  workersDir,
  type ApplicationGrant,
  type GrantedKey,
  type IntendedKeys,
} from './record.js';
export { FILE_HEADER, renderIntendedFile, type ExpectedLine, type RenderedFile } from './render-file.js';
export { type KeyChange, type KeyExchangeSettings } from './transaction.js';
export { ensureUserKey, type WorkerUserKey } from './user-key.js';
