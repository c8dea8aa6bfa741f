// The built-in demo image, generated deterministically on first use.
import { ensureDemoImage } from '../../demo/index.ts';

export function demoImagePath(): Promise<string> {
  return ensureDemoImage();
}
