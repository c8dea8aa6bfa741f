// The values of the bytes at the start of the selection (the cursor's byte when nothing
// longer is selected), as ImHex's data inspector lists them.
import { INSPECT_BYTES, inspect } from '../format/inspector.ts';

export { INSPECT_BYTES };

export function DataInspector({ bytes }: { bytes: Uint8Array }) {
  const readings = inspect(bytes);
  if (readings.length === 0) return null;
  return (
    <table className="inspector" data-testid="data-inspector">
      <thead>
        <tr>
          <th />
          <th>little-endian</th>
          <th>big-endian</th>
        </tr>
      </thead>
      <tbody>
        {readings.map((r) => (
          <tr key={r.label} data-testid={`inspect-${r.label}`}>
            <th>{r.label}</th>
            <td className="le" colSpan={r.be === undefined ? 2 : 1}>
              {r.le}
            </td>
            {r.be !== undefined && <td className="be">{r.be}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
