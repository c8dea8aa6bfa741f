// The exported picture's rows, in CSS pixels (times the map's DPR): apart from export-png.ts so
// the e2e suite, which compiles without the DOM, can find the map and legend in the file.
export const PICTURE = {
  /** The title row above the map. */
  title: 28,
  /** The offset axis under the map. */
  axis: 22,
  /** One row of the legend, and its swatch's side. */
  legendRow: 22,
  swatch: 12,
  pad: 10,
  gap: 18,
} as const;
