// The bytes of the hex view's window, read through the chain (so filters apply); a newer
// window drops an older answer.
import { useEffect, useState } from 'react';
import { decodeBase64 } from '../../../shared/ipc.ts';
import { WINDOW } from './use-hex-cursor.ts';
import { transport } from '../transport/index.ts';

export interface WindowBytes {
  offset: number;
  data: Uint8Array;
}

export function useWindowBytes(imageId: string, start: number | null, size: number) {
  const [bytes, setBytes] = useState<WindowBytes | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (start === null || start >= size) return;
    let live = true;
    transport()
      .invoke('hex.read', { imageId, offset: start, length: Math.min(WINDOW, size - start) })
      .then((r) => {
        if (!live) return;
        setBytes({ offset: r.offset, data: decodeBase64(r.base64) });
        setError(null);
      })
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [start, imageId, size]);
  return { bytes, error };
}

/** Up to `n` bytes of the window from `offset`, or none when the window does not hold it. */
export function bytesAt(bytes: WindowBytes | null, offset: number, n: number): Uint8Array {
  if (!bytes || offset < bytes.offset || offset >= bytes.offset + bytes.data.length) return new Uint8Array(0);
  const at = offset - bytes.offset;
  return bytes.data.subarray(at, at + n);
}
