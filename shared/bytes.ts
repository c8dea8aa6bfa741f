// Byte counts in binary units, scaled in one place. The CLI, the statsfile (nbdkit's shape)
// and the renderer round differently, but they agree on what a KiB is and where units change.

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

/** `n` in the largest binary unit it reaches, or null below 1 KiB (shown in bytes). */
export function scaleBytes(n: number): { value: number; unit: (typeof UNITS)[number] } | null {
  let value = Math.abs(n);
  let unit = -1;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit < 0 ? null : { value: Math.sign(n) * value, unit: UNITS[unit]! };
}
