// What a drop onto the window opens. File managers and browsers put dropped files in
// text/uri-list as file:// URLs, which both hosts can turn into a path without Node.
export function droppedTargets(uriList: string, plain: string): string[] {
  const lines = (uriList || plain)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  return lines.map((l) => (l.startsWith('file://') ? decodeURIComponent(new URL(l).pathname) : l));
}
