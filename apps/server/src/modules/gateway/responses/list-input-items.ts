import { AppError } from '../../../http/app-error.ts';
import type { ResponseRecord } from './response-object.ts';

/**
 * A response's input items (its whole conversation: earlier turns' input and output included) as
 * OpenAI lists them: `order` desc by default, `after` an item id, `limit` items per page.
 */
export function listInputItems(
  record: ResponseRecord,
  query: { after?: string | undefined; limit: number; order: 'asc' | 'desc' },
) {
  const items = query.order === 'asc' ? record.inputItems : [...record.inputItems].reverse();
  let start = 0;
  if (query.after) {
    const at = items.findIndex((item) => item.id === query.after);
    if (at < 0)
      throw new AppError(
        'validation_failed',
        `No input item with id '${query.after}' in this response.`,
        undefined,
        {
          param: 'after',
        },
      );
    start = at + 1;
  }
  const data = items.slice(start, start + query.limit);
  return {
    object: 'list' as const,
    data,
    first_id: (data[0]?.id as string | undefined) ?? null,
    last_id: (data[data.length - 1]?.id as string | undefined) ?? null,
    has_more: start + data.length < items.length,
  };
}
