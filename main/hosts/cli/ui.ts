// `blockscope ui`: the browser UI host (wired once main/hosts/web lands).
import { UsageError } from './chain-args.ts';

export async function uiCommand(_argv: string[]): Promise<number> {
  throw new UsageError('the browser UI host is not part of this build yet');
}
