// The errors a service throws on purpose carry the contract's error code, so the handler
// table can tell the renderer "not found" or "needs confirmation" rather than a bare message.
import type { IpcErrorCode } from '../../shared/ipc.ts';

export class ServiceError extends Error {
  readonly code: IpcErrorCode;
  /** needs-confirmation: the filters holding unsaved data. */
  readonly filters?: string[];

  constructor(code: IpcErrorCode, message: string, filters?: string[]) {
    super(message);
    this.name = 'ServiceError';
    this.code = code;
    this.filters = filters;
  }
}
