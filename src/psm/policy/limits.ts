/** Limits of the policy format. Every one is checked before the value is used or stored. */

/** A policy file larger than this is refused before it is parsed. */
export const MAX_POLICY_BYTES = 64 * 1024;
export const MAX_NAME_LENGTH = 64;
export const MAX_OWNER_LENGTH = 200;
export const MAX_DESCRIPTION_LENGTH = 4000;
/** Paths on the worker (gate, popcobjrun, objects). */
export const MAX_PATH_LENGTH = 1024;
export const MAX_OBJECTS = 256;
export const MAX_PERMITS = 64;
export const MAX_FROM_PATTERNS = 64;
/** RFC 1035 limit for a host name; sshd's own limit (NI_MAXHOST) is larger. */
export const MAX_HOST_LENGTH = 253;
export const MAX_FROM_PATTERN_LENGTH = 255;
/** The longest expiry a policy may grant at all (lint warns above LONG_EXPIRY_SECONDS). */
export const MAX_EXPIRY_SECONDS = 3650 * 86_400;
/** Expiries longer than this are a lint warning: keys should be rotated well before. */
export const LONG_EXPIRY_SECONDS = 90 * 86_400;
/** More policy files than this in one directory is refused by lint. */
export const MAX_POLICY_FILES = 1000;
