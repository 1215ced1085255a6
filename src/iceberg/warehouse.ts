import type { K2Config } from '../config/index.js';
import { SqlCatalog } from './catalog.js';
import { S3FileIO } from './io.js';
import type { Warehouse } from './table.js';

/**
 * The warehouse of a K2 configuration: the SQL catalog on catalog.*, S3 on s3.*, new tables under
 * s3://<bucket>/warehouse/<catalog name>/<namespace>/<table> (one prefix per catalog, so two
 * catalogs never share files and orphan removal in one cannot touch the other).
 */
export function openWarehouse(
  config: Pick<K2Config, 'catalog' | 's3'>,
): Warehouse & { close(): Promise<void> } {
  const { name, ...connection } = config.catalog;
  const catalog = new SqlCatalog({ name, connection });
  const io = new S3FileIO({ ...config.s3 });
  return {
    catalog,
    io,
    location: `s3://${config.s3.bucket}/warehouse/${name}`,
    async close() {
      await catalog.close();
      io.destroy();
    },
  };
}
