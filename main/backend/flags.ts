// Request flags as the chain sees them (nbdkit's NBDKIT_FLAG_*), independent of wire bits.
export const FLAG_MAY_TRIM = 1 << 0; // WRITE_ZEROES may punch a hole (wire: no NO_HOLE)
export const FLAG_FUA = 1 << 1; // force unit access
export const FLAG_REQ_ONE = 1 << 2; // extents: only the extent at offset is wanted
export const FLAG_FAST_ZERO = 1 << 3; // zero: fail with ENOTSUP unless faster than writing

/** How a layer supports FUA (or CACHE): not at all, by the backend's emulation, or itself. */
export type Support = 'none' | 'emulate' | 'native';
