import { spawnSync } from 'node:child_process';
import { StackError } from '../errors/index.js';
import { onPath } from './process.js';

/** Java 17+ and Maven, which the Kafka, registry and S3 services run on. */
export function requireJavaAndMaven(service: string): void {
  if (!onPath('java')) {
    throw new StackError(
      service,
      'Java 17+ is required but `java` is not on the PATH (Debian: apt-get install openjdk-17-jre-headless)',
    );
  }
  const version = spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr ?? '';
  const major = Number(/version "(\d+)/.exec(version)?.[1] ?? 0);
  if (major < 17) throw new StackError(service, `Java 17+ is required, found: ${version.split('\n')[0]}`);
  if (!onPath('mvn')) {
    throw new StackError(
      service,
      'Maven is required to fetch the service from Maven Central but `mvn` is not on the PATH (Debian: apt-get install maven)',
    );
  }
}
