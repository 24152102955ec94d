import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { DASHBOARDS } from '../../dashboards/src/all.ts';
import { ALERT_RULES } from '../../dashboards/src/alert-rules.ts';
import { DATASOURCE_UID, PLUGIN_ID, PLUGIN_VERSION } from '../../dashboards/src/clickhouse.ts';
import { panelsOf } from '../../dashboards/src/dashboard.ts';
import { ALERT_RULES_FILE } from '../../dashboards/src/generate.ts';
import { TABLES, tablesRead } from '../../dashboards/src/sql.ts';
import { VARIABLE_NAMES, variableQuery } from '../../dashboards/src/variables.ts';
import { ENV_VARS, readConfig } from '../../ingest/src/config.ts';
import { loadMigrations } from '../../ingest/src/store/migrate.ts';

/**
 * The deliverables that cannot run here (compose, Kubernetes, the collector, Grafana and
 * Alertmanager provisioning) parse, and agree with each other and with the service:
 * env var names, ports, paths, table names, the datasource uid, cluster names, images.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');
const yamlDocs = (p: string): any[] =>
  parseAllDocuments(read(p)).map((d) => {
    expect(d.errors, p).toEqual([]);
    return d.toJSON();
  });
const yaml1 = (p: string): any => yamlDocs(p)[0];
const files = (dir: string) => readdirSync(join(ROOT, dir)).filter((f) => /\.ya?ml$/.test(f));

const compose = yaml1('deploy/compose/docker-compose.yaml');
const k8s = files('deploy/k8s').flatMap((f) => yamlDocs(`deploy/k8s/${f}`).map((doc) => ({ file: f, doc })));
const kind = (k: string, name?: string) =>
  k8s.map((x) => x.doc).filter((d) => d?.kind === k && (name === undefined || d.metadata?.name === name));
const one = (k: string, name: string) => {
  const [d] = kind(k, name);
  expect(d, `${k}/${name}`).toBeDefined();
  return d;
};
/** The collector's own merge of several --config files: maps merge, anything else is replaced. */
const merge = (a: any, b: any): any =>
  a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)
    ? Object.fromEntries(
        [...new Set([...Object.keys(a), ...Object.keys(b)])].map((k) => [k, k in b ? merge(a[k], b[k]) : a[k]]),
      )
    : b;
const collector = {
  single: yaml1('collector/otelcol.yaml'),
  'single + other backend': merge(yaml1('collector/otelcol.yaml'), yaml1('collector/otelcol-other-backend.yaml')),
  gateway: yaml1('collector/otelcol-loadbalancing.yaml'),
  sidecar: yaml1('collector/otelcol-sidecar.yaml'),
};
const datasources = yaml1('deploy/grafana/provisioning/datasources/clickhouse.yaml');
const dashboardsProvider = yaml1('deploy/grafana/provisioning/dashboards/tokenmeter.yaml');
const notifications = yaml1('deploy/grafana/provisioning/alerting/notifications.yaml');
const alertmanager = yaml1('deploy/alertmanager/alertmanager.yml');
const rulesDoc = yaml1(`dashboards/generated/${ALERT_RULES_FILE}`);

const TOKENMETER_IMAGE = 'ghcr.io/tokenmeter/tokenmeter';
const envList = (env: { name: string; value?: string }[] = []) =>
  Object.fromEntries(env.map((e) => [e.name, e.value ?? 'from-secret']));
const podContainers = (d: any) => [
  ...(d.spec?.template?.spec?.containers ?? []),
  ...(d.spec?.template?.spec?.initContainers ?? []),
];
const url = (u: string) => new URL(u);

/** Tables the migrations create, by name (the {local:NAME} placeholders). */
const MIGRATION_TABLES = new Set(
  loadMigrations().flatMap((m) => [...m.sql.matchAll(/\{local:([a-z0-9_]+)\}/g)].map((x) => x[1] as string)),
);
const SERVICE_PORT = readConfig({}).port;

describe('every file parses', () => {
  it('compose, Kubernetes, collector, Grafana and Alertmanager YAML, and the generated dashboards', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['alertmanager', 'clickhouse', 'example-app', 'grafana', 'otelcol', 'tokenmeter'].sort(),
    );
    expect(k8s.length).toBeGreaterThan(15);
    for (const f of readdirSync(join(ROOT, 'dashboards/generated')).filter((x) => x.endsWith('.json'))) {
      expect(() => JSON.parse(read(`dashboards/generated/${f}`))).not.toThrow();
    }
    expect(rulesDoc.apiVersion).toBe(1);
  });
});

describe('the service', () => {
  const serviceEnvs: { where: string; env: Record<string, string> }[] = [
    { where: 'compose tokenmeter', env: compose.services.tokenmeter.environment },
    ...kind('Deployment')
      .concat(kind('Job'))
      .flatMap((d) =>
        podContainers(d)
          .filter((c: any) => c.image.startsWith(TOKENMETER_IMAGE))
          .map((c: any) => ({ where: `k8s ${d.kind}/${d.metadata.name}/${c.name}`, env: envList(c.env) })),
      ),
  ];

  it('runs the tokenmeter image in compose and in Kubernetes (serve, migrate)', () => {
    expect(serviceEnvs.map((s) => s.where)).toEqual([
      'compose tokenmeter',
      'k8s Deployment/tokenmeter/tokenmeter',
      'k8s Job/tokenmeter-migrate-0-1-0/migrate',
    ]);
  });

  it.each(serviceEnvs.map((s) => [s.where, s.env] as const))(
    '%s: reads only env vars the service knows, with valid values',
    (_w, env) => {
      for (const name of Object.keys(env)) expect(ENV_VARS, name).toContain(name);
      const literal = Object.fromEntries(
        Object.entries(env).map(([k, v]) => [
          k,
          String(v).includes('${') || v === 'from-secret' ? 'x'.repeat(40) : String(v),
        ]),
      );
      expect(() => readConfig(literal)).not.toThrow();
      expect(env.CLICKHOUSE_URL, 'talks to a ClickHouse server, never embedded').toMatch(/^http:\/\//);
      expect(env.CLICKHOUSE_DATABASE).toBe('tokenmeter');
    },
  );

  it('every env var the deploy files set is one the config actually reads (not only listed)', () => {
    const config = read('ingest/src/config.ts').replace(/export const ENV_VARS = \[[\s\S]*?\] as const;/, '');
    for (const { where, env } of serviceEnvs) {
      for (const name of Object.keys(env)) {
        const readHere = config.includes(`'${name}'`) || config.includes(`env.${name}`);
        expect(readHere, `${where}: ${name} is read by readConfig`).toBe(true);
      }
    }
  });

  it('listens where compose, the probes and the Services say', () => {
    expect(Number(compose.services.tokenmeter.environment.PORT)).toBe(SERVICE_PORT);
    expect(compose.services.tokenmeter.ports).toContain(`8318:${SERVICE_PORT}`);
    const deploy = one('Deployment', 'tokenmeter');
    const c = podContainers(deploy).find((x: any) => x.name === 'tokenmeter');
    expect(c.ports).toEqual([{ name: 'otlp-http', containerPort: SERVICE_PORT }]);
    expect(Number(envList(c.env).PORT)).toBe(SERVICE_PORT);
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe'])
      expect(c[probe].httpGet.port).toBe('otlp-http');
    // The probe paths are routes the service serves.
    const health = read('ingest/src/http/health.ts');
    expect(health).toContain(`'${c.readinessProbe.httpGet.path}'`);
    expect(health).toContain(`'${c.livenessProbe.httpGet.path}'`);
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(one('Service', 'tokenmeter').spec.ports[0].targetPort).toBe('otlp-http');
  });

  it('is scaled by an HPA and protected by a PDB that select the Deployment', () => {
    const deploy = one('Deployment', 'tokenmeter');
    const labels = deploy.spec.template.metadata.labels;
    const hpa = one('HorizontalPodAutoscaler', 'tokenmeter');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'tokenmeter' });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const pdb = one('PodDisruptionBudget', 'tokenmeter');
    expect(pdb.spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
    for (const sel of [pdb.spec.selector.matchLabels, deploy.spec.selector.matchLabels])
      expect(labels).toMatchObject(sel);
    for (const name of ['tokenmeter', 'tokenmeter-headless'])
      expect(labels).toMatchObject(one('Service', name).spec.selector);
  });

  it('migrates a cluster: the Job and the Deployment name the ClickHouse cluster the CHI defines', () => {
    const chi = kind('ClickHouseInstallation')[0];
    const [cluster] = chi.spec.configuration.clusters;
    expect(cluster.layout).toEqual({ shardsCount: 2, replicasCount: 2 });
    const job = one('Job', 'tokenmeter-migrate-0-1-0');
    const jobEnv = envList(podContainers(job)[0].env);
    expect(podContainers(job)[0].args).toEqual(['migrate']);
    expect(jobEnv.CLICKHOUSE_CLUSTER).toBe(cluster.name);
    expect(envList(podContainers(one('Deployment', 'tokenmeter'))[0].env).CLICKHOUSE_CLUSTER).toBe(cluster.name);
    // The service reaches the operator's Service clickhouse-<chi> on the HTTP port.
    const u = url(jobEnv.CLICKHOUSE_URL as string);
    expect(u.hostname.split('.').slice(0, 2)).toEqual([`clickhouse-${chi.metadata.name}`, chi.metadata.namespace]);
    expect(u.port).toBe('8123');
    // Keeper: the CHI points at the CHK's Service and client port.
    const chk = kind('ClickHouseKeeperInstallation')[0];
    const [zk] = chi.spec.configuration.zookeeper.nodes;
    expect(zk.host.split('.').slice(0, 2)).toEqual([`keeper-${chk.metadata.name}`, chk.metadata.namespace]);
    expect(String(zk.port)).toBe(chk.spec.configuration.settings['keeper_server/tcp_port']);
    expect(chk.spec.configuration.clusters[0].layout.replicasCount).toBe(3);
  });
});

describe('the collector', () => {
  const all = Object.entries(collector);

  it.each(all)(
    '%s: every pipeline component is defined, memory_limiter comes first, queues have storage',
    (_n, cfg) => {
      for (const [name, p] of Object.entries<any>(cfg.service.pipelines)) {
        expect(p.processors[0], name).toBe('memory_limiter');
        for (const r of p.receivers) expect(cfg.receivers, r).toHaveProperty([r]);
        for (const x of p.processors) expect(cfg.processors, x).toHaveProperty([x]);
        for (const e of p.exporters) expect(cfg.exporters, e).toHaveProperty([e]);
      }
      for (const ext of cfg.service.extensions) expect(cfg.extensions).toHaveProperty([ext]);
      for (const exp of Object.values<any>(cfg.exporters)) {
        const storage = exp.sending_queue?.storage;
        if (storage) expect(cfg.service.extensions).toContain(storage);
      }
    },
  );

  it('the other-backend addition adds a pipeline for the non-GenAI spans and keeps the tokenmeter one', () => {
    const pipelines = collector['single + other backend'].service.pipelines;
    expect(Object.keys(pipelines).sort()).toEqual(['traces/other', 'traces/tokenmeter']);
    expect(pipelines['traces/tokenmeter']).toEqual(collector.single.service.pipelines['traces/tokenmeter']);
  });

  it('single and sidecar: OTLP/HTTP to the service with a Bearer key, retries for ever, a queue on disk', () => {
    for (const cfg of [collector.single, collector.sidecar]) {
      const e = cfg.exporters['otlphttp/tokenmeter'];
      expect(e.headers.Authorization).toMatch(/^Bearer \$\{env:TOKENMETER_INGEST_KEY\}$/);
      expect(e.retry_on_failure).toMatchObject({ enabled: true, max_elapsed_time: 0 });
      expect(e.sending_queue).toMatchObject({ enabled: true, storage: 'file_storage/queue' });
    }
    expect(collector.sidecar.exporters['otlphttp/tokenmeter'].endpoint).toBe(`http://localhost:${SERVICE_PORT}`);
    // otlphttp appends /v1/traces: the route the service serves.
    expect(read('ingest/src/http/otlp.ts')).toContain("'/v1/traces'");
  });

  it('every ${env:VAR} a collector config needs (without a default) is set where it runs', () => {
    const needs = (file: string) =>
      [
        ...read(file)
          .replace(/^\s*#.*$/gm, '')
          .matchAll(/\$\{env:([A-Z_]+)\}/g),
      ].map((m) => m[1] as string);
    const composeEnv = compose.services.otelcol.environment;
    for (const v of needs('collector/otelcol.yaml')) expect(composeEnv, v).toHaveProperty([v]);
    const sidecar = envList(podContainers(one('Deployment', 'tokenmeter')).find((c: any) => c.name === 'otelcol').env);
    for (const v of needs('collector/otelcol-sidecar.yaml')) expect(sidecar, v).toHaveProperty([v]);
    const gateway = envList(podContainers(one('Deployment', 'otel-gateway'))[0].env);
    for (const v of needs('collector/otelcol-loadbalancing.yaml')) expect(gateway, v).toHaveProperty([v]);
  });

  it('compose: the collector reaches the tokenmeter service by name and port, and apps reach the collector', () => {
    const env = compose.services.otelcol.environment;
    const u = url(env.TOKENMETER_ENDPOINT);
    expect(u.hostname).toBe('tokenmeter');
    expect(Number(u.port)).toBe(SERVICE_PORT);
    expect(compose.services.otelcol.volumes).toContain(
      '../../collector/otelcol.yaml:/etc/otelcol-contrib/config.yaml:ro',
    );
    expect(compose.services.otelcol.volumes.some((v: string) => v.endsWith(`:${env.OTELCOL_QUEUE_DIR}`))).toBe(true);
    const http = collector.single.receivers.otlp.protocols.http.endpoint.split(':').pop();
    expect(url(compose.services['example-app'].environment.OTEL_EXPORTER_OTLP_ENDPOINT)).toMatchObject({
      hostname: 'otelcol',
      port: http,
    });
  });

  it('Kubernetes: the ConfigMaps hold the collector files verbatim, and the gateway routes by trace ID to the sidecars', () => {
    const cm = (name: string) => parse(one('ConfigMap', name).data['config.yaml']);
    expect(cm('otel-gateway')).toEqual(collector.gateway);
    expect(cm('tokenmeter-sidecar-collector')).toEqual(collector.sidecar);
    const lb = collector.gateway.exporters['loadbalancing/tokenmeter'];
    expect(lb.routing_key).toBe('traceID');
    const sidecarPort = Number(collector.sidecar.receivers.otlp.protocols.grpc.endpoint.split(':').pop());
    expect(lb.resolver.k8s.ports).toEqual([sidecarPort]);
    const headless = one('Service', 'tokenmeter-headless');
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.ports[0].port).toBe(sidecarPort);
    const gw = podContainers(one('Deployment', 'otel-gateway'))[0];
    expect(envList(gw.env).TOKENMETER_HEADLESS_SERVICE).toBe(
      `${headless.metadata.name}.${headless.metadata.namespace}`,
    );
    const sidecar = podContainers(one('Deployment', 'tokenmeter')).find((c: any) => c.name === 'otelcol');
    expect(sidecar.ports[0].containerPort).toBe(sidecarPort);
  });
});

describe('Grafana', () => {
  const [ds] = datasources.datasources;

  it('provisions the ClickHouse plugin under the uid every dashboard variable and alert rule uses', () => {
    expect(ds.uid).toBe(DATASOURCE_UID);
    expect(ds.type).toBe(PLUGIN_ID);
    for (const d of DASHBOARDS) {
      const json = JSON.parse(read(`dashboards/generated/${d.uid}.json`));
      const v = json.templating.list.find((x: any) => x.type === 'datasource');
      expect(v.query).toBe(PLUGIN_ID);
      expect(v.current.value).toBe(ds.uid);
      for (const p of json.panels.filter((x: any) => x.type !== 'row')) {
        expect(p.datasource.uid).toBe(`\${${v.name}}`);
      }
    }
    for (const rule of rulesDoc.groups.flatMap((g: any) => g.rules)) {
      for (const step of rule.data) expect([ds.uid, '__expr__']).toContain(step.datasourceUid);
    }
    expect(compose.services.grafana.environment.GF_PLUGINS_PREINSTALL_SYNC).toBe(`${PLUGIN_ID}@${PLUGIN_VERSION}`);
  });

  it('points the datasource at the database and tables the service writes, with OTel traces on otel_traces', () => {
    expect(ds.jsonData.defaultDatabase).toBe(compose.services.tokenmeter.environment.CLICKHOUSE_DATABASE);
    expect(ds.jsonData.port).toBe(9000); // ClickHouse's native port
    expect(ds.jsonData.traces.defaultTable).toBe('otel_traces');
    expect(ds.jsonData.traces.otelEnabled).toBe(true);
    expect(MIGRATION_TABLES).toContain(ds.jsonData.traces.defaultTable);
    expect(MIGRATION_TABLES).toContain(ds.jsonData.traces.defaultTable + ds.jsonData.traces.traceTimestampTableSuffix);
    // $VARS in the provisioning are set in Grafana's environment.
    const text = read('deploy/grafana/provisioning/datasources/clickhouse.yaml').replace(/^\s*#.*$/gm, '');
    for (const m of text.matchAll(/\$([A-Z][A-Z0-9_]*)/g)) {
      expect(compose.services.grafana.environment, m[1]).toHaveProperty([m[1] as string]);
    }
    expect(compose.services.grafana.environment.CLICKHOUSE_HOST).toBe('clickhouse');
  });

  it('panels, variables and alert rules read only tables the migrations create', () => {
    const sqls = [
      ...DASHBOARDS.flatMap((d) => panelsOf(d).map((p) => p.sql)),
      ...VARIABLE_NAMES.map((name) => variableQuery(name)),
      ...ALERT_RULES.flatMap((r) => r.queries.map((q) => q.sql)),
    ];
    const read = new Set(sqls.flatMap(tablesRead));
    expect(read.size).toBeGreaterThan(5);
    for (const t of read) {
      expect(TABLES, t).toContain(t);
      expect(MIGRATION_TABLES, t).toContain(t);
    }
    for (const t of TABLES) expect(MIGRATION_TABLES, t).toContain(t);
  });

  it('mounts the generated dashboards where the provider reads them, and the generated rules', () => {
    const [provider] = dashboardsProvider.providers;
    const vols: string[] = compose.services.grafana.volumes;
    expect(vols).toContain(`../../dashboards/generated:${provider.options.path}:ro`);
    expect(vols).toContain(
      `../../${join('dashboards/generated', ALERT_RULES_FILE)}:/etc/grafana/provisioning/alerting/tokenmeter-rules.yaml:ro`,
    );
  });

  it('links every alert rule to a panel that exists in the generated dashboard', () => {
    for (const rule of rulesDoc.groups.flatMap((g: any) => g.rules)) {
      const json = JSON.parse(read(`dashboards/generated/${rule.annotations.__dashboardUid__}.json`));
      const p = json.panels.find((x: any) => String(x.id) === rule.annotations.__panelId__);
      expect(p, rule.uid).toBeDefined();
      expect(p.type).not.toBe('row');
    }
  });

  it('sends alerts to Alertmanager, where compose and Kubernetes run it', () => {
    const [cp] = notifications.contactPoints;
    const [receiver] = cp.receivers;
    expect(receiver.type).toBe('prometheus-alertmanager');
    expect(notifications.policies[0].receiver).toBe(cp.name);
    const u = url(receiver.settings.url);
    expect(compose.services).toHaveProperty([u.hostname]);
    expect(compose.services[u.hostname].ports).toContain(`${u.port}:${u.port}`);
    expect(one('Service', u.hostname).spec.ports[0].port).toBe(Number(u.port));
    // The service's own evaluator pages through the same Alertmanager.
    expect(url(compose.services.tokenmeter.environment.ALERTMANAGER_URL)).toMatchObject({
      hostname: u.hostname,
      port: u.port,
    });
    const k8sAm = url(envList(podContainers(one('Deployment', 'tokenmeter'))[0].env).ALERTMANAGER_URL as string);
    expect(k8sAm.hostname.split('.')[0]).toBe(u.hostname);
    expect(k8sAm.port).toBe(u.port);
  });
});

describe('Alertmanager', () => {
  const match = (labels: Record<string, string>, matcher: string) => {
    const m = /^(\w+)(=~|!=|=)"(.*)"$/.exec(matcher) as RegExpExecArray;
    const [, name, op, value] = m;
    const v = labels[name as string] ?? '';
    return op === '=' ? v === value : op === '!=' ? v !== value : new RegExp(`^(?:${value})$`).test(v);
  };
  const route = (labels: Record<string, string>) =>
    alertmanager.route.routes.find((r: any) => r.matchers.every((m: string) => match(labels, m)))?.receiver ??
    alertmanager.route.receiver;

  it('routes severity=page to the pager and everything else to chat', () => {
    expect(route({ severity: 'page', alertname: 'CostSpike' })).toBe('pager');
    expect(route({ severity: 'warning', alertname: 'BudgetThreshold' })).toBe('chat');
    expect(route({ alertname: 'Whatever' })).toBe('chat');
    const receivers = alertmanager.receivers.map((r: any) => r.name);
    expect(receivers.sort()).toEqual(['chat', 'pager']);
  });

  it('every provisioned rule has a severity Alertmanager routes as intended', () => {
    for (const rule of rulesDoc.groups.flatMap((g: any) => g.rules)) {
      expect(route(rule.labels)).toBe(rule.labels.severity === 'page' ? 'pager' : 'chat');
    }
  });

  it('Kubernetes runs the same configuration', () => {
    expect(parse(one('ConfigMap', 'alertmanager').data['alertmanager.yml'])).toEqual(alertmanager);
  });
});

describe('images', () => {
  const images = [
    ...Object.entries<any>(compose.services).map(([name, s]) => ({
      where: `compose ${name}`,
      image: s.image as string,
    })),
    ...k8s.flatMap(({ file, doc }) =>
      [...podContainers(doc), ...(doc?.spec?.templates?.podTemplates ?? []).flatMap((t: any) => t.spec.containers)].map(
        (c: any) => ({ where: `${file} ${doc.kind}/${doc.metadata.name}/${c.name}`, image: c.image as string }),
      ),
    ),
    ...[...read('deploy/Dockerfile').matchAll(/^FROM (\S+)/gm)].map((m) => ({
      where: 'Dockerfile',
      image: m[1] as string,
    })),
  ];

  it.each(images.map((i) => [i.where, i.image] as const))('%s: %s is pinned', (_w, image) => {
    const tag = /:([^/:]+)$/.exec(image)?.[1];
    expect(tag, 'has a tag').toBeDefined();
    expect(tag).not.toBe('latest');
    expect(tag).toMatch(/^v?\d+\.\d+/);
  });

  it('ClickHouse is a current 25.x server, the same in compose and Kubernetes', () => {
    const ch = images.filter((i) => i.image.startsWith('clickhouse/clickhouse-server:'));
    expect(ch.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ch.map((i) => i.image)).size).toBe(1);
    expect(ch[0]?.image).toMatch(/:25\.\d+/);
  });

  it('one version of each image across compose and Kubernetes', () => {
    const byRepo = new Map<string, Set<string>>();
    for (const { image } of images) {
      const [repo] = image.split(/:(?=[^/:]+$)/);
      byRepo.set(repo as string, (byRepo.get(repo as string) ?? new Set()).add(image));
    }
    for (const [repo, set] of byRepo) expect([...set], repo).toHaveLength(1);
  });
});
