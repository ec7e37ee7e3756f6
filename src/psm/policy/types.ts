import type { CodedError } from '../../common/result.js';

/** The key roles of section 2.12 of the roadmap: who holds a key written under a policy. */
export const KEY_ROLES = ['admin', 'main-node', 'initiator'] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

export const POLICY_API_VERSION = 'psm/v1';
export const POLICY_KIND = 'KeyPolicy';

/** Errors of the policy module: a file that is not a valid policy never yields a KeyPolicy. */
export type PolicyErrorCode =
  | 'POLICY_TOO_LARGE'
  | 'POLICY_NOT_UTF8'
  | 'POLICY_YAML'
  | 'POLICY_YAML_FEATURE'
  | 'POLICY_NOT_MAP'
  | 'POLICY_UNKNOWN_FIELD'
  | 'POLICY_NEVER_GRANTED'
  | 'POLICY_MISSING_FIELD'
  | 'POLICY_WRONG_TYPE'
  | 'POLICY_BAD_VALUE'
  | 'POLICY_TOO_MANY'
  | 'POLICY_DUPLICATE'
  | 'POLICY_WILDCARD_NOT_ALLOWED'
  | 'POLICY_LISTEN_WITHOUT_OPEN'
  | 'POLICY_PATH_NOT_CANONICAL'
  | 'POLICY_GATE_OUTSIDE_DIR'
  | 'POLICY_FORBIDDEN_PROGRAM'
  | 'POLICY_INVISIBLE_CHARACTER';

export type PolicyError = CodedError<PolicyErrorCode>;

/** Where a field was written, so later checks (lint) can point at the line. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** A `host:port` destination for `permitopen`/`permitlisten`, as written in the option. */
export interface HostPort {
  /** Host as written in the option: a name, an IPv4 address, `[v6]`, or `*` (wildcard). */
  readonly host: string;
  /** Decimal port 1-65535, or `*` (wildcard). */
  readonly port: string;
}

/** The duration the policy grants a key, and the text it was written as. */
export interface Expiry {
  readonly text: string;
  readonly seconds: number;
}

/** An allowed popcobjrun object: one file, or every file below a directory (written with a trailing '/'). */
export interface AllowedObject {
  readonly path: string;
  readonly kind: 'file' | 'directory';
}

/** The argv shape the gate allows after popcobjrun's object. */
export type ArgumentShape = 'any' | 'popc';

/** A validated policy. Everything not in here is never granted to a key. */
export interface KeyPolicy {
  readonly name: string;
  readonly description: string;
  readonly owner: string;
  readonly role: KeyRole;
  /** Where the gate is installed on the worker: the key's forced command. */
  readonly gatePath: string;
  /** Where popcobjrun is installed on the worker: the only program the gate runs. */
  readonly popcobjrunPath: string;
  /**
   * What may follow the object on popcobjrun's command line: "popc" allows only the options
   * POP-C++'s client sends when it starts an object (docs/popc.md); "any" allows any safe words.
   */
  readonly popcobjrunArguments: ArgumentShape;
  readonly objects: readonly AllowedObject[];
  readonly permitOpen: readonly HostPort[];
  readonly allowWildcard: boolean;
  readonly permitListen: readonly HostPort[];
  /** CIDR / host patterns for `from=`; empty means "from anywhere" (a lint warning). */
  readonly from: readonly string[];
  readonly expiry: Expiry | null;
  /** The file the policy came from (as given), for messages. */
  readonly file: string;
  /** Source positions by field path (e.g. "from", "objects.0"), for lint findings. */
  readonly positions: ReadonlyMap<string, SourcePosition>;
}
