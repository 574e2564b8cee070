// Checks the Grafana dashboards and the alert rules against what the server really exports: every
// maas_* metric an expression names must be created in the server's or the agent's code (or be one
// of prom-client's default metrics under the maas_ prefix), every maas:* series must be a recording
// rule of deploy/prometheus/alerts.yaml. Writes every dashboard expression into a rule file (Grafana
// variables replaced) so that `promtool check rules` parses them as PromQL.
//   node --import tsx deploy/tools/check-dashboards.ts <rules-out.yaml> [dashboards dir]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parse, stringify } from 'yaml';

const repoRoot = resolve(import.meta.dirname, '../..');
const NON_MAAS_SERIES = new Set(['up']);
const SUFFIXES = ['_bucket', '_sum', '_count'];

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid?: string };
  targets?: { expr?: string; refId: string }[];
}

/** every metric name the server and the agent register (string literals in files that use prom-client) */
export async function exportedMetrics(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const app of ['server', 'agent']) {
    for (const file of sourceFiles(join(repoRoot, 'apps', app, 'src'))) {
      const text = readFileSync(file, 'utf8');
      if (!text.includes("from 'prom-client'")) continue;
      for (const m of text.matchAll(/['"`](maas_[a-z0-9_]+)['"`]/g)) names.add(m[1]!);
    }
  }
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'maas_' });
  for (const m of await registry.getMetricsAsJSON()) names.add(m.name);
  return names;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** series names in a PromQL expression (outside label values and strings) that are maas's */
function seriesIn(expr: string): string[] {
  const outsideStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...outsideStrings.matchAll(/\b(maas[_:][a-zA-Z0-9_:]*|up)\b(?!\s*\()/g)].map((m) => m[1]!);
}

function unknownSeries(expr: string, exported: Set<string>, recorded: Set<string>): string[] {
  return seriesIn(expr).filter((name) => {
    if (NON_MAAS_SERIES.has(name) || recorded.has(name) || exported.has(name)) return false;
    return !SUFFIXES.some((s) => name.endsWith(s) && exported.has(name.slice(0, -s.length)));
  });
}

/** Grafana's variables, replaced by values that keep the expression valid PromQL */
function withoutVariables(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__interval', '1m')
    .replaceAll('$__range', '1h')
    .replace(/\$\{?(model|instance|queue|provider|node)\}?/g, '.*');
}

export async function checkDashboards(rulesOut: string, dir: string): Promise<string[]> {
  const problems: string[] = [];
  const exported = await exportedMetrics();
  const alerts = parse(readFileSync(join(repoRoot, 'deploy/prometheus/alerts.yaml'), 'utf8')) as {
    groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[];
  };
  const recorded = new Set(
    alerts.groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))),
  );
  for (const group of alerts.groups) {
    for (const rule of group.rules) {
      for (const name of unknownSeries(rule.expr, exported, recorded)) {
        problems.push(`alerts.yaml ${rule.alert ?? rule.record}: ${name} is not exported by maas`);
      }
    }
  }

  const uids = new Set<string>();
  const groups: { name: string; rules: { record: string; expr: string }[] }[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
      uid?: string;
      title?: string;
      panels?: Panel[];
    };
    if (!dashboard.uid || !dashboard.title) problems.push(`${file}: needs a uid and a title`);
    if (dashboard.uid && uids.has(dashboard.uid)) problems.push(`${file}: uid ${dashboard.uid} used twice`);
    uids.add(dashboard.uid ?? file);
    const ids = new Set<number>();
    const rules: { record: string; expr: string }[] = [];
    for (const panel of dashboard.panels ?? []) {
      if (ids.has(panel.id)) problems.push(`${file}: panel id ${panel.id} used twice`);
      ids.add(panel.id);
      if (panel.type === 'row') continue;
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable, not a template literal
      if (panel.datasource?.uid !== '${datasource}')
        problems.push(`${file} "${panel.title}": datasource is not $datasource`);
      if (!panel.targets?.length) problems.push(`${file} "${panel.title}": no query`);
      for (const target of panel.targets ?? []) {
        if (!target.expr) {
          problems.push(`${file} "${panel.title}" ${target.refId}: empty expression`);
          continue;
        }
        for (const name of unknownSeries(target.expr, exported, recorded)) {
          problems.push(
            `${file} "${panel.title}": ${name} is not exported by maas (nor recorded in alerts.yaml)`,
          );
        }
        const record = `dashboard:${(dashboard.uid ?? file).replace(/\W/g, '_')}:panel_${panel.id}_${target.refId}`;
        rules.push({ record, expr: withoutVariables(target.expr) });
      }
    }
    groups.push({ name: `dashboard-${dashboard.uid ?? file}`, rules });
  }
  if (uids.size < 4)
    problems.push(`expected the gateway, tenants, fleet and jobs dashboards, found ${uids.size}`);
  writeFileSync(rulesOut, stringify({ groups }));
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const out = process.argv[2];
  if (!out) throw new Error('usage: check-dashboards.ts <rules-out.yaml> [dashboards dir]');
  const problems = await checkDashboards(out, resolve(process.argv[3] ?? join(repoRoot, 'deploy/grafana')));
  for (const p of problems) process.stderr.write(`deploy/grafana: ${p}\n`);
  if (problems.length > 0) process.exit(1);
  process.stdout.write(
    'deploy/grafana: ok (every series exported or recorded; expressions written for promtool)\n',
  );
}
