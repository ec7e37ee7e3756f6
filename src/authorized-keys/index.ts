export * from './keys/public-key.js';
export {
  defaultKeyOptions,
  parseKeyOptions,
  MAX_ENVIRONMENT_ENTRIES,
  MAX_PERMIT_ENTRIES,
  type KeyOptions,
} from './lines/options.js';
export {
  parseAuthorizedKeysLine,
  parseAuthorizedKeysFile,
  authorizedKeysFileLines,
  MAX_LINE_LENGTH,
  type AuthorizedKeysEntry,
  type ParsedLine,
} from './lines/line.js';
export {
  serializeOptions,
  serializeAuthorizedKeysLine,
  optionItems,
  type OptionItem,
} from './lines/serialize.js';
export type { AuthorizedKeysError, AuthorizedKeysErrorCode } from './lines/errors.js';
export * from './known-hosts/index.js';
