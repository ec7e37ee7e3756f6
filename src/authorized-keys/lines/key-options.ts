/** What the options of one authorized_keys line mean once parsed, and sshd's defaults for them. */

export interface KeyPermissions {
  readonly portForwarding: boolean;
  readonly agentForwarding: boolean;
  readonly x11Forwarding: boolean;
  readonly pty: boolean;
  readonly userRc: boolean;
}

/** Parsed options are read-only: lines without options all share one frozen default. */
export interface KeyOptions {
  readonly restrict: boolean;
  readonly permit: KeyPermissions;
  readonly certAuthority: boolean;
  readonly noTouchRequired: boolean;
  readonly verifyRequired: boolean;
  readonly command: string | null;
  readonly principals: string | null;
  readonly from: string | null;
  readonly environment: readonly string[];
  readonly permitOpen: readonly string[];
  readonly permitListen: readonly string[];
  readonly expiryTime: readonly string[];
  readonly tunnel: number | 'any' | null;
}

/** The options while parseOptionsAt builds them; lists start shared and empty, copied on first add. */
export type OptionsBuilder = { -readonly [K in Exclude<keyof KeyOptions, 'permit'>]: KeyOptions[K] } & {
  permit: { -readonly [K in keyof KeyPermissions]: boolean };
};

const NO_ENTRIES: readonly string[] = Object.freeze([]);

export function defaultOptionsBuilder(): OptionsBuilder {
  return {
    restrict: false,
    permit: { portForwarding: true, agentForwarding: true, x11Forwarding: true, pty: true, userRc: true },
    certAuthority: false,
    noTouchRequired: false,
    verifyRequired: false,
    command: null,
    principals: null,
    from: null,
    environment: NO_ENTRIES,
    permitOpen: NO_ENTRIES,
    permitListen: NO_ENTRIES,
    expiryTime: NO_ENTRIES,
    tunnel: null,
  };
}

/**
 * What sshd starts from for an authorized_keys line (sshauthopt_new_with_keys_defaults), deeply
 * frozen: every line without options shares it, so a parsed file does not hold 13 fields and
 * five objects per plain key line.
 */
export const DEFAULT_KEY_OPTIONS: KeyOptions = frozenDefaults();

function frozenDefaults(): KeyOptions {
  const options = defaultOptionsBuilder();
  Object.freeze(options.permit);
  return Object.freeze(options);
}

/** DEFAULT_KEY_OPTIONS (frozen: build other options by spreading it). */
export function defaultKeyOptions(): KeyOptions {
  return DEFAULT_KEY_OPTIONS;
}

/** `list` with `value` added: NO_ENTRIES is shared, so the first value starts a list of its own. */
export function appended(list: readonly string[], value: string): readonly string[] {
  if (list === NO_ENTRIES) return [value];
  // Any list other than NO_ENTRIES was made here for one builder alone.
  (list as string[]).push(value);
  return list;
}
