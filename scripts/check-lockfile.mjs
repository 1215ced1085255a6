// Proves `npm install` installed exactly the committed lockfile's versions. The lockfile itself may
// gain or lose entries for other platforms' optional binaries, depending on which of them the
// package registry serves that day (npm 11 writes what it could resolve), so comparing the file's
// text is no proof either way: the installed tree is what must match.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const locked = JSON.parse(execFileSync('git', ['show', 'HEAD:package-lock.json'], { encoding: 'utf8' }));
const wrong = [];
for (const [path, entry] of Object.entries(locked.packages)) {
  if (!path.startsWith('node_modules/') || entry.link) continue;
  const manifest = `${path}/package.json`;
  if (!existsSync(manifest)) {
    // Optional packages for another os or cpu are not installed, by design.
    if (!entry.optional && !entry.devOptional) wrong.push(`${path}: missing (locked ${entry.version})`);
    continue;
  }
  const { version } = JSON.parse(readFileSync(manifest, 'utf8'));
  if (version !== entry.version) wrong.push(`${path}: installed ${version}, locked ${entry.version}`);
}
if (wrong.length > 0) {
  console.error(`npm install did not install the locked versions:\n  ${wrong.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `lockfile check: ${Object.keys(locked.packages).length - 1} locked packages, installed as locked`,
);
