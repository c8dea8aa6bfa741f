// The reply envelope. Replies travel as an IpcResult on both transports, because an Error
// thrown through Electron's ipcMain.handle or contextBridge loses everything but its message,
// and the renderer needs the error code (a filter holding unsaved data asks for confirmation).

export type IpcErrorCode =
  /** The request failed its schema. */
  | 'invalid-input'
  /** No such image (closed, or never opened). */
  | 'not-found'
  /** chain.set would drop unsaved data: ask the user, then resend with force: true. */
  | 'needs-confirmation'
  /** The host cannot do this (dialog.openImage in a browser). */
  | 'unsupported'
  /** The sender is not our app's page. */
  | 'forbidden'
  /** Anything else: the message says what. */
  | 'failed';

export interface IpcErrorInfo {
  code: IpcErrorCode;
  message: string;
  /** errno from the engine (EIO, ENOENT, ...), when there was one. */
  errno?: string;
  /** needs-confirmation: the filters that hold unsaved data. */
  filters?: string[];
}

export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: IpcErrorInfo };

export class IpcError extends Error {
  readonly code: IpcErrorCode;
  readonly info: IpcErrorInfo;
  constructor(info: IpcErrorInfo) {
    super(info.message);
    this.name = 'IpcError';
    this.code = info.code;
    this.info = info;
  }
}

/** The value of a reply, or an IpcError carrying its code. */
export function unwrapResult<T>(result: IpcResult<T>): T {
  if (result.ok) return result.value;
  throw new IpcError(result.error);
}
