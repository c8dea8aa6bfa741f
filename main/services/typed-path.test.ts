import { describe, expect, it } from 'vitest';
import { fileUriPath, resolveTypedPath } from './typed-path.ts';

const context = { home: '/home/ana', cwd: '/srv/images' };
const resolve = (typed: string) => resolveTypedPath(typed, context);

describe('resolveTypedPath', () => {
  it('expands ~ and ~/x to the engine home', () => {
    expect(resolve('~')).toBe('/home/ana');
    expect(resolve('~/')).toBe('/home/ana');
    expect(resolve('~/disks/a b.img')).toBe('/home/ana/disks/a b.img');
    // The renderer trims what is typed; a name here is taken as it is.
    expect(resolve('~/x.qcow2 ')).toBe('/home/ana/x.qcow2 ');
  });

  it('refuses ~user instead of guessing another home', () => {
    expect(() => resolve('~bob/x.img')).toThrow(/only ~ and ~\/… .* are expanded/);
  });

  it('leaves a ~ that is not first alone', () => {
    expect(resolve('/tmp/~/x')).toBe('/tmp/~/x');
    expect(resolve('a~/x')).toBe('/srv/images/a~/x');
  });

  it('resolves relative paths against cwd and normalises absolute ones', () => {
    expect(resolve('disk.img')).toBe('/srv/images/disk.img');
    expect(resolve('/a/../b//c.img')).toBe('/b/c.img');
  });

  it('opens file:// URIs with an empty host or localhost, percent-decoded', () => {
    expect(resolve('file:///tmp/a%20b.img')).toBe('/tmp/a b.img');
    expect(resolve('file://localhost/tmp/x.img')).toBe('/tmp/x.img');
    expect(resolve('FILE://LocalHost/tmp/x.img')).toBe('/tmp/x.img');
    expect(resolve('file:/tmp/x.img')).toBe('/tmp/x.img');
    expect(resolve('file:///tmp/%C3%A9t%C3%A9.img')).toBe('/tmp/été.img');
    expect(resolve('file:///tmp/100%25.img')).toBe('/tmp/100%.img');
  });

  it('drops a query or fragment, which are not part of the name', () => {
    expect(resolve('file:///tmp/x.img?raw#top')).toBe('/tmp/x.img');
    expect(resolve('file:///tmp/a%23b.img')).toBe('/tmp/a#b.img');
  });
});

describe('fileUriPath refusals', () => {
  it('names the other host', () => {
    expect(() => fileUriPath('file://nas.local/share/x.img')).toThrow("names the host 'nas.local'; only local files open");
  });

  it('needs a path', () => {
    expect(() => fileUriPath('file://localhost')).toThrow(/needs an absolute path/);
    expect(() => fileUriPath('file:relative.img')).toThrow(/needs an absolute path/);
  });

  it('refuses broken percent-encoding and NUL', () => {
    expect(() => fileUriPath('file:///tmp/%zz.img')).toThrow(/malformed percent-encoding/);
    expect(() => fileUriPath('file:///tmp/%C3.img')).toThrow(/malformed percent-encoding/);
    expect(() => fileUriPath('file:///tmp/a%00b')).toThrow(/NUL/);
  });
});
