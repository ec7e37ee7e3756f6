/**
 * Bounds on what a caller (the CLI, the daemon) may ask of a driver, checked before anything is
 * created. vm.json is refused outside the same memory bounds.
 */
export const MIN_MEMORY_MIB = 64;
export const MAX_MEMORY_MIB = 65536;
/** How long a guest may take to shut down cleanly before it is stopped hard. */
export const MAX_GRACE_SECONDS = 3600;
/** The longest timeout a caller may set for one operation: a day. */
export const MAX_TIMEOUT_SECONDS = 86_400;
