// ClickHouse over HTTP in a process of its own (chdb behind test/support's HTTP harness), so
// that the gateway's process is measured as deployed: without the database inside it.
// usage: node --import tsx clickhouse.ts DATA_DIR (sends its port to the parent)
import { startClickHouseHttp } from '../../test/support/clickhouse-http.ts';

const harness = await startClickHouseHttp({ dataDir: process.argv[2]! });
process.send?.(harness.port);
