export * from './public-key.js';
export {
  defaultKeyOptions,
  parseKeyOptions,
  MAX_ENVIRONMENT_ENTRIES,
  MAX_PERMIT_ENTRIES,
  type KeyOptions,
} from './options.js';
export {
  parseAuthorizedKeysLine,
  parseAuthorizedKeysFile,
  authorizedKeysFileLines,
  MAX_LINE_LENGTH,
  type AuthorizedKeysEntry,
  type ParsedLine,
} from './line.js';
export { serializeOptions, serializeAuthorizedKeysLine, optionItems, type OptionItem } from './serialize.js';
export type { AuthorizedKeysError, AuthorizedKeysErrorCode } from './errors.js';
export * from './known-hosts.js';
