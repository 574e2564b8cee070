import type { PathsWithMethod, RequestBodyJSON, SuccessResponseJSON } from 'openapi-typescript-helpers';
import type { paths } from './openapi.d.ts';

/** The admin API's types, generated from the server's OpenAPI document (`npm run contracts:generate`). */
export type { components, paths } from './openapi.d.ts';

export type ApiMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';
/** The documented paths (OpenAPI templates, `/api/v1/models/{id}`) that answer `method`. */
export type ApiPath<M extends ApiMethod> = PathsWithMethod<paths, M>;
type Operation<P extends keyof paths, M extends ApiMethod> = paths[P][M] & Record<string | number, unknown>;
/** The JSON body a route answers with on success. */
export type ApiResponse<P extends ApiPath<M>, M extends ApiMethod = 'get'> = SuccessResponseJSON<
  Operation<P, M>
>;
/** The JSON body a route takes. */
export type ApiBody<P extends ApiPath<M>, M extends ApiMethod> = RequestBodyJSON<Operation<P, M>>;
/** The paths whose GET answers a page `{ data, next_cursor }`. */
export type ApiListPath = {
  [P in ApiPath<'get'>]: ApiResponse<P> extends { data: unknown[]; next_cursor: unknown } ? P : never;
}[ApiPath<'get'>];
/** One item of a paged or `{ data: [...] }` list. */
export type ApiItem<P extends ApiPath<'get'>> = ApiResponse<P> extends { data: (infer T)[] } ? T : never;
/** The names in a path template's braces: `'/api/v1/models/{id}/versions/{version}'` → `'id' | 'version'`. */
export type ApiPathParam<P extends string> = P extends `${string}{${infer Name}}${infer Rest}`
  ? Name | ApiPathParam<Rest>
  : never;
