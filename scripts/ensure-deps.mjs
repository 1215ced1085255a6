// Installs the locked npm packages when node_modules is missing or older than the lockfile, so that
// the README's two commands work on a fresh clone (`npm install` against the committed lockfile: see
// .ci/run for why not `npm ci`). Plain JavaScript with no dependencies: it runs before any exist.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const installed = 'node_modules/.package-lock.json';
const stale = !existsSync(installed) || statSync(installed).mtimeMs < statSync('package-lock.json').mtimeMs;
if (stale) {
  console.log('installing npm dependencies (npm install, locked versions)');
  const result = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
