import { z } from 'zod';
import { type modelShares, SHARE_STATUSES } from './schema.ts';

export const offerShareBody = z.strictObject({
  org_id: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'not a valid id')
    .describe('the org the model is offered to; it sees the model once it accepts'),
});

export const shareListQuery = z.strictObject({
  direction: z
    .enum(['incoming', 'outgoing', 'all'])
    .default('all')
    .describe('incoming: offered to your org; outgoing: offered by your org'),
});

export const shareDto = z.object({
  id: z.string(),
  model_id: z.string(),
  model_name: z.string().describe("the model's name in the owner org"),
  shared_name: z.string().describe('the name the receiving org calls it by: <owner-slug>/<model name>'),
  owner_org_id: z.string(),
  owner_org_slug: z.string(),
  consumer_org_id: z.string(),
  status: z.enum(SHARE_STATUSES),
  created_at: z.string(),
  updated_at: z.string(),
});

export type OfferShareBody = z.infer<typeof offerShareBody>;
export type ShareRow = typeof modelShares.$inferSelect;
export type ShareDto = z.infer<typeof shareDto>;

/** A share with what its DTO names: the model's name and the owner's slug. */
export interface ShareWithNames {
  share: ShareRow;
  modelName: string;
  ownerSlug: string;
}

export function toShareDto({ share, modelName, ownerSlug }: ShareWithNames): ShareDto {
  return {
    id: share.id,
    model_id: share.modelId,
    model_name: modelName,
    shared_name: `${ownerSlug}/${modelName}`,
    owner_org_id: share.ownerOrgId,
    owner_org_slug: ownerSlug,
    consumer_org_id: share.consumerOrgId,
    status: share.status,
    created_at: share.createdAt.toISOString(),
    updated_at: share.updatedAt.toISOString(),
  };
}
