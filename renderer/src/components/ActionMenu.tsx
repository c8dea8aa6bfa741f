// A select used as a menu: choosing an entry runs it and the placeholder shows again, so the
// same entry can be chosen twice in a row.
export function ActionMenu<V extends string>({ label, placeholder, testId, entries, onChoose }: {
  label: string;
  placeholder: string;
  testId: string;
  entries: readonly (readonly [value: V, text: string])[];
  onChoose: (value: V) => void;
}) {
  return (
    <select
      className="btn small"
      value=""
      aria-label={label}
      data-testid={testId}
      onChange={(e) => {
        const v = e.target.value;
        e.target.value = '';
        const entry = entries.find(([value]) => value === v);
        if (entry) onChoose(entry[0]);
      }}
    >
      <option value="" disabled>
        {placeholder}
      </option>
      {entries.map(([value, text]) => (
        <option key={value} value={value}>
          {text}
        </option>
      ))}
    </select>
  );
}
