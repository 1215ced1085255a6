import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { DataFile } from '../../src/iceberg/datafile.js';
import { stack } from './stack.js';

const scripts = fileURLToPath(new URL('../../scripts/pyiceberg/', import.meta.url));
let python: Promise<string> | undefined;

/** The project's PyIceberg venv (installed from PyPI on first use, cached under ~/.cache/k2). */
export function pyicebergPython(): Promise<string> {
  python ??= promisify(execFile)('bash', [`${scripts}ensure-venv.sh`], { timeout: 600_000 }).then((r) =>
    r.stdout.trim(),
  );
  return python;
}

/** Runs one command of scripts/pyiceberg/k2_pyiceberg.py against the local stack and catalog `catalogName`. */
export async function pyiceberg<T = Record<string, unknown>>(
  catalogName: string,
  request: Record<string, unknown>,
): Promise<T> {
  const { catalog, s3 } = stack();
  const body = JSON.stringify({ catalog: { ...catalog, name: catalogName }, s3, ...request });
  const exe = await pyicebergPython();
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>(
    (resolve, reject) => {
      const child = spawn(exe, [`${scripts}k2_pyiceberg.py`], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        err += d;
      });
      child.on('error', reject);
      child.on('close', (c) => resolve({ stdout: out, stderr: err, code: c }));
      child.stdin.end(body);
    },
  );
  let answer: { ok: boolean; error?: string } & T;
  try {
    answer = JSON.parse(stdout);
  } catch {
    throw new Error(`pyiceberg ${String(request.command)} exited ${code}: ${stderr.slice(-2000)}`);
  }
  if (!answer.ok) throw new Error(`pyiceberg ${String(request.command)}: ${answer.error}`);
  return answer;
}

interface DataFileJson {
  filePath: string;
  fileSizeInBytes: number;
  recordCount: number;
  partition: Record<string, string | number | null>;
  specId: number;
  columnSizes: Record<string, number>;
  valueCounts: Record<string, number>;
  nullValueCounts: Record<string, number>;
  nanValueCounts: Record<string, number>;
  lowerBounds: Record<string, string>;
  upperBounds: Record<string, string>;
  splitOffsets: number[];
}

const numbers = (o: Record<string, number>) => new Map(Object.entries(o).map(([k, v]) => [Number(k), v]));
const hex = (o: Record<string, string>) =>
  new Map(Object.entries(o).map(([k, v]) => [Number(k), new Uint8Array(Buffer.from(v, 'hex'))]));

/** A DataFile as K2's encoder hands it over, from PyIceberg's statistics of a PyArrow-written file. */
export function toDataFile(json: DataFileJson): DataFile {
  return {
    filePath: json.filePath,
    fileFormat: 'PARQUET',
    fileSizeInBytes: json.fileSizeInBytes,
    recordCount: json.recordCount,
    partition: new Map(Object.entries(json.partition).map(([k, v]) => [Number(k), v])),
    specId: json.specId,
    columnSizes: numbers(json.columnSizes),
    valueCounts: numbers(json.valueCounts),
    nullValueCounts: numbers(json.nullValueCounts),
    nanValueCounts: numbers(json.nanValueCounts),
    lowerBounds: hex(json.lowerBounds),
    upperBounds: hex(json.upperBounds),
    splitOffsets: json.splitOffsets,
  };
}

/** Writes Parquet files (field ids from the table's schema) with PyArrow and returns them as DataFiles. */
export async function writeParquetFiles(
  catalogName: string,
  table: string,
  files: { path: string; rows: readonly object[] }[],
): Promise<DataFile[]> {
  const answer = await pyiceberg<{ files: DataFileJson[] }>(catalogName, {
    command: 'write-files',
    table,
    files,
  });
  return answer.files.map(toDataFile);
}
