// "Compare with…": the open image (A) against another image or nbd:// URI (B): a diff map
// whose classes are identical / differ / only allocated in A / only allocated in B, their
// totals, and previous/next difference, which also moves the map's selection (and the hex
// view) to that difference. The view is live (writes to either image while it is served
// update it: compare/use-live-compare.ts) and opens a two-sided hex view of the difference.
import { useState } from 'react';
import type { CompareRun } from '../../../shared/ipc.ts';
import { useTheme } from '../app/theme.ts';
import { runCompare } from '../compare/compare-action.ts';
import { DIFF_CLASSES, DIFF_NAMES, differenceAt, diffColours } from '../compare/diff-map.ts';
import { useLiveCompare, type LiveState } from '../compare/use-live-compare.ts';
import { formatBytes, formatHex } from '../format/bytes.ts';
import { PALETTES, cssColour } from '../map/palette.ts';
import { selectExport } from '../store/selectors.ts';
import { useApp } from '../store/store.ts';
import { CompareHex } from './CompareHex.tsx';
import { CompareMap } from './CompareMap.tsx';

export function ComparePanel({ imageId }: { imageId: string }) {
  const [other, setOther] = useState('');
  const [strict, setStrict] = useState(false);
  const [busy, setBusy] = useState(false);
  const [run, setRun] = useState<CompareRun | null>(null);
  const [runs, setRuns] = useState(0);
  const start = async () => {
    setBusy(true);
    const result = await runCompare(imageId, other, strict);
    setBusy(false);
    if (!result) return;
    setRun(result);
    setRuns((n) => n + 1);
  };
  return (
    <div className="compare" data-testid="compare-panel">
      <div className="compare-head">
        <input
          className="input mono"
          aria-label="Compare with"
          placeholder="Image B: a path or nbd:// URI"
          value={other}
          data-testid="compare-other"
          onChange={(e) => setOther(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && other.trim() && void start()}
        />
        <label title="Allocation and size differences count as differences (qemu-img compare -s)">
          <input type="checkbox" checked={strict} onChange={(e) => setStrict(e.target.checked)} data-testid="compare-strict" /> strict
        </label>
        <button className="btn small" disabled={busy || !other.trim()} onClick={() => void start()} data-testid="compare-run">
          {busy ? 'Comparing…' : 'Compare'}
        </button>
      </div>
      {/* A new comparison starts at its first difference. */}
      {run && <CompareResultView key={runs} imageId={imageId} run={run} onRun={setRun} />}
    </div>
  );
}

function CompareResultView({ imageId, run, onRun }: { imageId: string; run: CompareRun; onRun(run: CompareRun): void }) {
  // The current difference is kept by offset: a live update may split, grow or drop ranges.
  const [at, setAt] = useState(run.ranges[0]?.offset ?? 0);
  const [hexOpen, setHexOpen] = useState(false);
  const live = useLiveCompare(run, onRun);
  const select = useApp((s) => s.select);
  const theme = useTheme();
  const colours = diffColours(PALETTES[theme], theme);
  const index = differenceAt(run.ranges, at);
  const go = (k: number) => {
    const r = run.ranges[k];
    if (!r) return;
    setAt(r.offset);
    select(imageId, r.offset);
  };
  const current = run.ranges[index];
  return (
    <>
      <div data-testid="compare-verdict" data-identical={run.identical}>
        <strong>{run.identical ? 'Identical' : 'Different'}</strong> · B: {run.otherTitle}
        {run.sizeA !== run.sizeB && ` · sizes differ: A ${formatBytes(run.sizeA)}, B ${formatBytes(run.sizeB)}`}
        <LivePill run={run} live={live} />
      </div>
      <CompareMap run={run} current={current} onPick={(offset) => go(differenceAt(run.ranges, offset))} />
      <div className="legend" data-testid="compare-totals">
        {DIFF_CLASSES.map((c) => (
          <span key={c} data-testid={`compare-total-${c}`} data-bytes={run.totals[c]}>
            <span className="swatch" style={{ background: cssColour(colours[c]) }} />
            {DIFF_NAMES[c]} {formatBytes(run.totals[c])}
          </span>
        ))}
      </div>
      <div className="compare-nav">
        <button className="btn small" disabled={index <= 0} onClick={() => go(index - 1)} data-testid="compare-prev">
          ◀ Previous
        </button>
        <span className="mono" data-testid="compare-current" data-offset={current?.offset} data-length={current?.length} data-class={current?.class}>
          {current ? `${index + 1} of ${run.ranges.length}: ${formatHex(current.offset)} · ${formatBytes(current.length)} · ${DIFF_NAMES[current.class]}` : 'no differences'}
        </span>
        <button className="btn small" disabled={index >= run.ranges.length - 1} onClick={() => go(index + 1)} data-testid="compare-next">
          Next ▶
        </button>
        <button className="btn small" aria-pressed={hexOpen} onClick={() => setHexOpen(!hexOpen)} data-testid="compare-hex-toggle">
          Bytes A | B
        </button>
      </div>
      {hexOpen && <CompareHex run={run} current={current} version={live.updates} onStep={(step) => go(index + step)} />}
    </>
  );
}

/** Says the view is live, whether either side is served (where writes come from) and when it last changed. */
function LivePill({ run, live }: { run: CompareRun; live: LiveState }) {
  const servedA = useApp((s) => selectExport(s, run.imageId) !== undefined);
  const servedB = useApp((s) => selectExport(s, run.otherId) !== undefined);
  const served = [servedA && 'A', servedB && 'B'].filter(Boolean).join(' and ');
  const title = 'Writes to either image through its export update the diff here, range by range';
  return (
    <span className="live-pill" title={title} data-testid="compare-live" data-updates={live.updates} data-refreshing={live.refreshing}>
      ● live{served ? ` · ${served} served` : ''}
      {live.updatedAt !== null && ` · updated ${new Date(live.updatedAt).toLocaleTimeString()}`}
    </span>
  );
}
