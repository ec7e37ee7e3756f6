/** The most workers a rotation works on at once (`psm rotate-keys --concurrency`). */
export const MAX_ROTATION_CONCURRENCY = 64;
