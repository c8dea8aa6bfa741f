// One filter of the sidebar: its switch, its place in the chain (with moves), its summary and
// its parameter form. Switching on a filter whose required values are missing opens the form
// asking for them instead of sending a chain the engine would refuse.
import { useState } from 'react';
import type { FilterConfig } from '../../../shared/chain-config.ts';
import type { ComponentInfo } from '../../../shared/ipc.ts';
import { missingRequired, type FieldError } from '../params/param-form.ts';
import { ParamForm } from './ParamForm.tsx';
import { UnsavedWrites } from './UnsavedWrites.tsx';

export interface FilterCardProps {
  info: ComponentInfo;
  filter?: FilterConfig;
  position?: number;
  last: boolean;
  unsaved: boolean;
  onToggle(on: boolean): void;
  /** Resolves with the engine's reason when it refuses the parameters, else null. */
  onParams(params: Record<string, string>, enable: boolean): Promise<string | null>;
  onMove(delta: -1 | 1): void;
}

/** One object for "no parameters", so a re-render does not look like new values arriving. */
const NO_PARAMS: Record<string, string> = {};

export function FilterCard({ info, filter, position, last, unsaved, onToggle, onParams, onMove }: FilterCardProps) {
  const on = filter?.enabled ?? false;
  const [open, setOpen] = useState(false);
  // Switched on without a required value: the form opens asking for it, no round trip.
  const [asked, setAsked] = useState<FieldError | null>(null);
  const toggle = () => {
    const missing = on ? [] : missingRequired(info.params, filter?.params ?? NO_PARAMS);
    if (missing.length === 0) return onToggle(!on);
    setOpen(true);
    setAsked({ key: missing[0]!.key, text: 'required: fill it in, then Apply & enable' });
  };
  return (
    <div className={`filter${on ? ' on' : ''}`} data-testid={`filter-${info.name}`}>
      <div className="filter-head">
        <button
          className="toggle"
          role="switch"
          aria-checked={on}
          aria-label={`${on ? 'Disable' : 'Enable'} ${info.name}`}
          data-testid={`toggle-${info.name}`}
          onClick={toggle}
        />
        <span className="name">{info.name}</span>
        <span className="spacer" />
        {on && position !== undefined && <MoveButtons position={position} last={last} onMove={onMove} />}
        {info.params.length > 0 && (
          <button className="btn icon small" aria-expanded={open} title="Parameters" onClick={() => setOpen(!open)}>
            {open ? '▾' : '▸'}
          </button>
        )}
      </div>
      <div className="filter-summary">
        {unsaved && <UnsavedWrites filter={info.name} />}
        {info.summary}
      </div>
      {open && (
        <ParamForm specs={info.params} component={info.name} values={filter?.params ?? NO_PARAMS} enabled={on} asked={asked} onApply={onParams} />
      )}
    </div>
  );
}

function MoveButtons({ position, last, onMove }: { position: number; last: boolean; onMove(delta: -1 | 1): void }) {
  return (
    <>
      <span className="pos" title="Position in the chain (1 = outermost)">{position + 1}</span>
      <button className="btn icon small" disabled={position === 0} title="Move outward" onClick={() => onMove(-1)}>↑</button>
      <button className="btn icon small" disabled={last} title="Move inward" onClick={() => onMove(1)}>↓</button>
    </>
  );
}
