import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

/** `docker compose`, or the plugin binary itself where the docker CLI is absent (scripts/install-compose.sh). */
function compose(args: string[]) {
  const viaDocker = spawnSync('docker', ['compose', ...args], { encoding: 'utf8' });
  if (viaDocker.status === 0 || !viaDocker.stderr?.includes('unknown command')) return viaDocker;
  const plugin = join(homedir(), '.docker', 'cli-plugins', 'docker-compose');
  if (!existsSync(plugin)) throw new Error('docker compose is not installed: run scripts/install-compose.sh');
  return spawnSync(plugin, args, { encoding: 'utf8' });
}

describe('docker-compose.yml', () => {
  // First run on a machine without Docker builds the compose plugin from the Go module proxy.
  beforeAll(() => {
    const out = spawnSync('bash', ['scripts/install-compose.sh'], { encoding: 'utf8', stdio: 'inherit' });
    if (out.status !== 0) throw new Error('scripts/install-compose.sh failed');
  }, 900_000);

  it('passes docker compose config', () => {
    const out = compose(['-f', 'docker-compose.yml', 'config', '--quiet']);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
  });

  it('runs the whole production platform', () => {
    const out = compose(['-f', 'docker-compose.yml', 'config', '--services']);
    expect(out.stdout.trim().split('\n').sort()).toEqual(
      [
        'grafana',
        'k2-supervisor',
        'kafka-1',
        'kafka-2',
        'kafka-3',
        'minio',
        'minio-init',
        'postgres',
        'prometheus',
        'schema-registry',
      ].sort(),
    );
  });
});
