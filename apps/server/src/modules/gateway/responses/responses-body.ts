import { z } from 'zod';
import { AppError } from '../../../http/app-error.ts';

/**
 * The body of `POST /v1/responses`: the fields maas acts on, typed; other fields OpenAI may add
 * pass validation and are ignored. Shapes of `input` items are checked in input-items.ts, where
 * each refusal names its item.
 */
const functionTool = z.looseObject({
  type: z.literal('function'),
  name: z.string().min(1).max(128),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});

const textFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    name: z.string().min(1).max(64),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().nullish(),
    strict: z.boolean().nullish(),
  }),
]);

export const createResponseBody = z.looseObject({
  model: z.string().min(1).max(256),
  input: z.union([z.string(), z.array(z.unknown())]).optional(),
  instructions: z.string().nullish(),
  previous_response_id: z.string().min(1).max(128).nullish(),
  store: z.boolean().nullish(),
  background: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  tools: z.array(z.looseObject({ type: z.string() })).nullish(),
  tool_choice: z
    .union([
      z.enum(['auto', 'none', 'required']),
      z.looseObject({ type: z.literal('function'), name: z.string().min(1) }),
      z.looseObject({ type: z.string() }),
    ])
    .nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  max_output_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  metadata: z.record(z.string().max(64), z.string().max(512)).nullish(),
  text: z.looseObject({ format: textFormat.nullish() }).nullish(),
  reasoning: z
    .looseObject({
      effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']).nullish(),
      summary: z.string().nullish(),
    })
    .nullish(),
  user: z.string().nullish(),
  truncation: z.enum(['auto', 'disabled']).nullish(),
  include: z.array(z.string()).nullish(),
});

export type CreateResponseBody = z.infer<typeof createResponseBody>;
export type FunctionTool = z.infer<typeof functionTool>;

/** A 400 invalid_request_error naming the bad field, as OpenAI answers. */
export const badRequest = (message: string, param: string | null = null) =>
  new AppError('validation_failed', message, undefined, { param });

/** `input[0].content` for a zod path. */
export function paramOf(path: readonly PropertyKey[]): string | null {
  let out = '';
  for (const part of path)
    out += typeof part === 'number' ? `[${part}]` : out ? `.${String(part)}` : String(part);
  return out || null;
}

/** The parsed body, or a 400 naming the first bad field. */
export function parseCreateBody(raw: unknown): CreateResponseBody {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw badRequest('The request body must be a JSON object.');
  const result = createResponseBody.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const param = paramOf(issue.path);
    throw badRequest(param ? `Invalid '${param}': ${issue.message}.` : issue.message, param);
  }
  const body = result.data;
  body.tools?.forEach((tool, i) => {
    // emulated by maas (file-search.ts), which validates it
    if (tool.type === 'file_search') return;
    if (tool.type !== 'function')
      throw badRequest(
        `Tool type '${tool.type}' is not supported by this gateway; only 'function' and 'file_search' tools are.`,
        `tools[${i}].type`,
      );
    const parsed = functionTool.safeParse(tool);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const param = paramOf(['tools', i, ...issue.path]);
      throw badRequest(`Invalid '${param}': ${issue.message}.`, param);
    }
  });
  const choice = body.tool_choice;
  if (choice && typeof choice === 'object' && choice.type !== 'function' && choice.type !== 'file_search')
    throw badRequest(
      `tool_choice of type '${choice.type}' is not supported by this gateway.`,
      'tool_choice.type',
    );
  if (body.background && body.store === false)
    throw badRequest('Background mode requires store to be true.', 'background');
  if (body.background && body.stream)
    throw badRequest('Streaming a background response is not supported by this gateway.', 'stream');
  if (body.input === undefined && !body.previous_response_id)
    throw badRequest("Missing required parameter: 'input'.", 'input');
  return body;
}
