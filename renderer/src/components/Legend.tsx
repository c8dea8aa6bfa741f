// What each colour of the map means, in the words nbdinfo uses.
const ITEMS: [string, string, string][] = [
  ['data', 'data', 'allocated data'],
  ['zero', 'zero', 'allocated, reads as zero'],
  ['hole', 'hole', 'hole, reads as zero'],
  ['hole-undefined', 'hole (undefined)', 'hole, contents undefined'],
  ['unknown', 'not scanned', 'not scanned yet'],
  ['mixed', 'mixed', 'a pixel holding several kinds: stacked by bytes'],
];

export function Legend() {
  return (
    <div className="legend" data-testid="legend">
      {ITEMS.map(([cls, name, title]) => (
        <span key={cls} title={title}>
          <span className={`swatch sw-${cls}`} />
          {name}
        </span>
      ))}
    </div>
  );
}
