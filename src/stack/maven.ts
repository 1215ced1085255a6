import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from '../errors/index.js';
import type { StackContext } from './context.js';
import { run } from './process.js';

/** Maven's local repository lives in the K2 cache, so one folder holds every download. */
/** Pinned: Maven 3.8's default dependency plugin (2.8) resolves differently. */
const dependencyPlugin = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

function mavenArgs(ctx: StackContext): string[] {
  return ['-B', '-q', `-Dmaven.repo.local=${join(ctx.cacheDir, 'm2')}`];
}

function mvn(ctx: StackContext, service: string, args: string[], cwd?: string): void {
  try {
    run('mvn', [...mavenArgs(ctx), ...args], { cwd, timeoutMs: 900_000 });
  } catch (error) {
    throw new StackError(service, `Maven could not fetch what it needs: ${(error as Error).message}`);
  }
}

export interface MavenDependency {
  groupId: string;
  artifactId: string;
  version: string;
}

/**
 * Resolves the runtime classpath of `dependencies` into `<cacheDir>/<name>/lib`, once. The folder is
 * filled under a temporary name and renamed, so an interrupted resolve is never mistaken for a done one.
 */
export function resolveClasspath(
  ctx: StackContext,
  service: string,
  name: string,
  dependencies: MavenDependency[],
): string {
  const home = join(ctx.cacheDir, name);
  const lib = join(home, 'lib');
  if (existsSync(lib) && readdirSync(lib).length > 0) return lib;
  ctx.log(`${service}: resolving ${name} from Maven Central (first run only)`);
  mkdirSync(home, { recursive: true });
  const deps = dependencies
    .map(
      (d) =>
        `    <dependency><groupId>${d.groupId}</groupId><artifactId>${d.artifactId}</artifactId><version>${d.version}</version></dependency>`,
    )
    .join('\n');
  writeFileSync(
    join(home, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>k2.stack</groupId>
  <artifactId>${name}</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
${deps}
  </dependencies>
</project>
`,
  );
  const staging = join(home, 'lib.partial');
  rmSync(staging, { recursive: true, force: true });
  mvn(
    ctx,
    service,
    [`${dependencyPlugin}:copy-dependencies`, '-DincludeScope=runtime', `-DoutputDirectory=${staging}`],
    home,
  );
  renameSync(staging, lib);
  return lib;
}

/**
 * Fetches one artifact (`group:artifact:version[:type[:classifier]]`) into Maven's local repository and
 * copies it to `<cacheDir>/<name>/<fileName>`, once; returns that path. `get` without transitive
 * resolution is used because some assemblies (Apicurio's) name a parent POM that Central lacks,
 * which the 3.x `copy` goal refuses.
 */
export function fetchArtifact(
  ctx: StackContext,
  service: string,
  name: string,
  coordinates: string,
  fileName: string,
): string {
  const home = join(ctx.cacheDir, name);
  const file = join(home, fileName);
  if (existsSync(file)) return file;
  ctx.log(`${service}: fetching ${coordinates} from Maven Central (first run only)`);
  mkdirSync(home, { recursive: true });
  mvn(ctx, service, [
    'org.apache.maven.plugins:maven-dependency-plugin:2.8:get',
    `-Dartifact=${coordinates}`,
    '-Dtransitive=false',
  ]);
  const [groupId, artifactId, version, type = 'jar', classifier] = coordinates.split(':') as [
    string,
    string,
    string,
    string?,
    string?,
  ];
  const stored = join(
    ctx.cacheDir,
    'm2',
    ...groupId.split('.'),
    artifactId,
    version,
    `${artifactId}-${version}${classifier ? `-${classifier}` : ''}.${type}`,
  );
  if (!existsSync(stored)) throw new StackError(service, `Maven reported success but ${stored} is missing`);
  const partial = `${file}.partial`;
  copyFileSync(stored, partial);
  renameSync(partial, file);
  return file;
}
