import type { ApiItem } from '@maas/contracts';
import type { Command, OptionValues } from 'commander';
import type { ApiClient, PathOf, Query, ResponseOf } from './api-client.ts';
import { usageError } from './errors.ts';
import type { Column } from './output.ts';
import { confirm } from './prompt.ts';
import {
  fetchOne,
  type ItemPath,
  idParams,
  itemPath,
  type RefSpec,
  type ResourcePath,
  resolveId,
} from './resolve.ts';
import { examples, parseInteger, type Runtime, runtimeOf } from './runtime.ts';

/** commander's option values: each flag as its parser left it */
type Opts = OptionValues;

/** What a POST to the list path answers (a new key carries its secret). */
type Created<P extends ResourcePath> = ResponseOf<Extract<P, PathOf<'POST'>>, 'POST'>;

/** `P`: the resource's list path, whose items are its rows; `get` shows `ItemPath<P>`'s answer. */
export interface ResourceDef<P extends ResourcePath> {
  ref: RefSpec<P>;
  /** the command group, plural: `projects` */
  command: string;
  aliases?: string[];
  description: string;
  columns: Column<ApiItem<P>>[];
  /** the `label: value` lines of `get` (default: every top-level field) */
  details?: (row: ResponseOf<ItemPath<P>>) => [string, unknown][];
  list?: { options?: (cmd: Command) => void; query?: (opts: Opts, rt: Runtime) => Promise<Query> | Query };
  create?: {
    args?: string[];
    options: (cmd: Command) => void;
    body: (
      args: string[],
      opts: Opts,
      rt: Runtime,
    ) => Promise<Record<string, unknown>> | Record<string, unknown>;
    /** runs after a create, e.g. to show a secret once */
    after?: (row: Created<P>, opts: Opts, rt: Runtime) => void;
  };
  update?: {
    options: (cmd: Command) => void;
    body: (opts: Opts, rt: Runtime) => Promise<Record<string, unknown>> | Record<string, unknown>;
  };
  /** `revoke` for keys: the word in messages */
  deleteVerb?: string;
  examples: Partial<Record<'ls' | 'get' | 'create' | 'update' | 'delete', string[]>>;
}

/** Merges `--data '{"field": …}'` over the body the flags built (for fields without a flag). */
function withData(body: Record<string, unknown>, data: string | undefined): Record<string, unknown> {
  if (!data) return body;
  let extra: unknown;
  try {
    extra = JSON.parse(data);
  } catch {
    throw usageError('--data is not valid JSON');
  }
  if (!extra || typeof extra !== 'object' || Array.isArray(extra))
    throw usageError('--data must be a JSON object');
  return { ...body, ...(extra as Record<string, unknown>) };
}

const dropUndefined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function defaultDetails(row: object): [string, unknown][] {
  return Object.entries(row);
}

export function showOne<P extends ResourcePath>(
  rt: Runtime,
  def: ResourceDef<P>,
  row: ResponseOf<ItemPath<P>>,
): void {
  rt.out.print(row, () => rt.out.fields(def.details ? def.details(row) : defaultDetails(row as object)));
}

/** Builds `<group> ls|get|create|update|delete` for one admin resource. */
export function registerResource<P extends ResourcePath>(program: Command, def: ResourceDef<P>): Command {
  const group = program.command(def.command).description(def.description);
  for (const a of def.aliases ?? []) group.alias(a);
  const ex = (cmd: Command, which: keyof ResourceDef<P>['examples']) =>
    examples(cmd, def.examples[which] ?? []);
  const api = (cmd: Command): [Runtime, ApiClient] => {
    const rt = runtimeOf(cmd);
    return [rt, rt.api()];
  };

  const ls = group
    .command('ls')
    .alias('list')
    .description(`list ${def.command}`)
    .option('--limit <n>', 'at most this many (default: all, following pages)', parseInteger);
  def.list?.options?.(ls);
  ex(ls, 'ls').action(async (opts: Opts, cmd: Command) => {
    const [rt, client] = api(cmd);
    const query = (await def.list?.query?.(opts, rt)) ?? {};
    const rows = await client.list(def.ref.path, { query }, opts.limit ?? Number.POSITIVE_INFINITY);
    rt.out.print(rows, () => rt.out.table(rows, def.columns));
  });

  ex(
    group
      .command('get')
      .description(`show one ${def.ref.singular}`)
      .argument('<ref>', `${def.ref.singular} id or name`),
    'get',
  ).action(async (ref: string, _opts: Opts, cmd: Command) => {
    const [rt, client] = api(cmd);
    showOne(rt, def, await fetchOne(client, def.ref, ref));
  });

  if (def.create) {
    const create = def.create;
    const cmd = group.command('create').description(`create a ${def.ref.singular}`);
    for (const a of create.args ?? []) cmd.argument(a);
    create.options(cmd);
    cmd.option('--data <json>', 'extra request fields as a JSON object (merged over the flags)');
    ex(cmd, 'create').action(async (...args: unknown[]) => {
      const command = args.at(-1) as Command;
      const opts = args.at(-2) as Opts;
      const [rt, client] = api(command);
      const body = withData(
        dropUndefined(await create.body(args.slice(0, -2) as string[], opts, rt)),
        opts.data,
      );
      const row = await client.request('POST', def.ref.path as Extract<P, PathOf<'POST'>>, { body });
      if (create.after) create.after(row, opts, rt);
      else
        rt.out.print(row, () =>
          rt.out.line(`Created ${def.ref.singular} ${rt.out.c.bold((row as { id: string }).id)}`),
        );
    });
  }

  if (def.update) {
    const update = def.update;
    const cmd = group
      .command('update')
      .description(`change a ${def.ref.singular}`)
      .argument('<ref>', `${def.ref.singular} id or name`);
    update.options(cmd);
    cmd.option('--data <json>', 'extra request fields as a JSON object (merged over the flags)');
    ex(cmd, 'update').action(async (ref: string, opts: Opts, command: Command) => {
      const [rt, client] = api(command);
      const body = withData(dropUndefined(await update.body(opts, rt)), opts.data);
      if (Object.keys(body).length === 0) throw usageError('nothing to change: give at least one option');
      const id = await resolveId(client, def.ref, ref);
      const path = itemPath<P, 'PATCH'>(def.ref);
      const row = await client.request('PATCH', path, { body, params: idParams<typeof path>(id) });
      rt.out.print(row, () => rt.out.line(`Updated ${def.ref.singular} ${rt.out.c.bold(id)}`));
    });
  }

  const verb = def.deleteVerb ?? 'delete';
  const del = group
    .command('delete')
    .alias('rm')
    .description(`${verb} a ${def.ref.singular}`)
    .argument('<ref>', `${def.ref.singular} id or name`)
    .option('-y, --yes', 'do not ask for confirmation');
  ex(del, 'delete').action(async (ref: string, opts: Opts, command: Command) => {
    const [rt, client] = api(command);
    const id = await resolveId(client, def.ref, ref);
    if (!opts.yes && !(await confirm(`${verb} ${def.ref.singular} ${id}?`))) {
      rt.out.note('aborted');
      return;
    }
    const path = itemPath<P, 'DELETE'>(def.ref);
    await client.request('DELETE', path, { params: idParams<typeof path>(id) });
    const past = verb.endsWith('e') ? `${verb}d` : `${verb}ed`;
    rt.out.print({ id, [past]: true }, () =>
      rt.out.line(`${past[0]!.toUpperCase()}${past.slice(1)} ${def.ref.singular} ${id}`),
    );
  });

  examples(
    group,
    (['ls', 'get', 'create', 'update', 'delete'] as const).flatMap((k) => def.examples[k]?.slice(0, 1) ?? []),
  );
  return group;
}
