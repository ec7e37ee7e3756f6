import { MAX_CONTEXT_ID_LENGTH } from '../render-key-line.js';

/**
 * Limits of key exchange, each checked before anything is stored or written. A worker's file is
 * small by design: one admin key (two during a rotation), and a few keys per application.
 */

/** Admin keys on one worker: the active one, and the next one while a rotation runs. */
export const MAX_ADMIN_KEYS = 2;
/** Applications holding one worker at once (POP-C++ gives a worker to one application; room for overlap). */
export const MAX_APPLICATIONS = 16;
export const MAX_INITIATORS_PER_APP = 16;
/** A public key as a caller hands it over ("type base64 [comment]"): RSA 16384 is ~2.8 KiB. */
export const MAX_PUBLIC_KEY_TEXT = 16 * 1024;
/** The intended-keys record on the admin VM. */
export const MAX_RECORD_BYTES = 1024 * 1024;
/** What psm reads back from a worker's authorized_keys: its own files are a few KiB. */
export const MAX_GUEST_AUTHORIZED_KEYS_BYTES = 256 * 1024;
/** Application ids and worker names: the same characters the renderer writes into comments. */
export const MAX_ID_LENGTH = MAX_CONTEXT_ID_LENGTH;
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;
/** How long psm waits for another psm changing the same worker's keys. */
export const RECORD_LOCK_WAIT_MS = 30_000;

export function isValidId(value: string): boolean {
  return value.length > 0 && value.length <= MAX_ID_LENGTH && ID_PATTERN.test(value);
}
