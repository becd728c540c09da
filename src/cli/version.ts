/** The package version, read once from package.json. */
import { readFileSync } from 'node:fs';

const pkgUrl = new URL('../../../package.json', import.meta.url);
export const version: string = (JSON.parse(readFileSync(pkgUrl, 'utf8')) as { version: string }).version;
