import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, notFound } from './app-error.ts';
import { builtInPermissions, grants, isPermissionName, type PermissionGrant } from './permissions.ts';
import type { KeyPrincipal, Principal } from './principal.ts';
import { ROUTE_PERMISSIONS, type RouteAccess } from './route-permissions.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** from ROUTE_PERMISSIONS: what the route needs (set when the route is added) */
    access?: RouteAccess;
  }
}

export interface RouteAccessDeps {
  /** an API key's permissions on admin routes (its scopes within its creator's) */
  keyGrant(key: KeyPrincipal): Promise<PermissionGrant>;
  /** the project of a resource named in the path, for resources that belong to one */
  projectOfResource(orgId: string, resource: 'key', id: string): Promise<string>;
  /** whether the project belongs to the org (another org's is a 404, like its other resources) */
  projectInOrg(orgId: string, projectId: string): Promise<boolean>;
}

const ADMIN_PREFIX = '/api/v1';

/** `GET /keys/:id` for a route as Fastify adds it (HEAD is GET's). */
export function routeKey(method: string, url: string): string {
  const path = url.startsWith(ADMIN_PREFIX) ? url.slice(ADMIN_PREFIX.length) : url;
  return `${method === 'HEAD' ? 'GET' : method} ${path}`;
}

/** The project a request is about, if it names one: in its path, body or query. */
async function projectOf(req: FastifyRequest, orgId: string, deps: RouteAccessDeps): Promise<string | null> {
  const url = req.routeOptions.url ?? '';
  const params = req.params as Record<string, string | undefined>;
  if (url.startsWith(`${ADMIN_PREFIX}/projects/:id`) && params.id) return params.id;
  if (url.startsWith(`${ADMIN_PREFIX}/keys/:id`) && params.id) {
    return deps.projectOfResource(orgId, 'key', params.id);
  }
  const body = req.body as { project_id?: unknown } | undefined;
  if (body && typeof body === 'object' && typeof body.project_id === 'string') return body.project_id;
  const query = req.query as { project_id?: unknown } | undefined;
  if (query && typeof query.project_id === 'string') return query.project_id;
  return null;
}

async function authorize(req: FastifyRequest, p: Principal, access: RouteAccess, deps: RouteAccessDeps) {
  let grant = p.permissions;
  if (p.kind === 'key' && !grant) {
    grant = await deps.keyGrant(p);
    req.principal = { ...p, permissions: grant };
  }
  if (!isPermissionName(access)) return;
  const params = req.params as Record<string, string | undefined>;
  if (req.routeOptions.url?.startsWith(`${ADMIN_PREFIX}/orgs/:id`) && params.id !== p.orgId) {
    throw notFound('org');
  }
  grant ??= { org: new Set(p.kind === 'user' ? builtInPermissions(p.role) : []), projects: new Map() };
  const needsProject = p.kind === 'key' || !grant.org.has(access);
  const project = needsProject ? await projectOf(req, p.orgId, deps) : null;
  if (p.kind === 'key' && project !== null && project !== p.projectId) {
    if (!(await deps.projectInOrg(p.orgId, project))) throw notFound('project');
    throw new AppError(
      'forbidden',
      `this API key belongs to project ${p.projectId}: it may not act on another`,
    );
  }
  if (!grants(grant, access, p.kind === 'key' ? null : project)) {
    throw new AppError('forbidden', `this needs the ${access} permission, which you do not hold here`, {
      permission: access,
    });
  }
}

/**
 * Every admin route gets its permission from ROUTE_PERMISSIONS: it is written into the route's
 * OpenAPI operation (`x-maas-permission`) and checked after authentication, before the handler.
 */
export function registerRouteAccess(api: FastifyInstance, deps: RouteAccessDeps): void {
  api.addHook('onRoute', (route) => {
    const method = Array.isArray(route.method) ? route.method[0]! : route.method;
    const access = ROUTE_PERMISSIONS[routeKey(method, route.url)];
    if (!access) return;
    route.config = { ...route.config, access };
    // an OpenAPI extension: @fastify/swagger copies `x-` keys of a route schema into its operation
    if (route.schema && !route.schema.hide) {
      const extended: Record<string, unknown> = { ...route.schema, 'x-maas-permission': access };
      route.schema = extended;
    }
  });
  api.addHook('preHandler', (req, _reply, done) => {
    const access = req.routeOptions.config.access;
    const p = req.principal;
    if (!p || !access || access === 'public' || access === 'platform' || access === 'self') return done();
    authorize(req, p, access, deps).then(() => done(), done);
  });
}
