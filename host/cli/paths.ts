// Project-relative locations, independent of the directory the CLI was started from.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = (): string => path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const rtlRoot = (): string => path.join(projectRoot(), 'rtl');
