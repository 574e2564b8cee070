-- usage_events keeps only its key: each secondary index cost every write a third more on the embedded
-- database, and nothing reads events by org or key (usage and bills read the rollups; retention drops
-- whole monthly partitions). Dropping the parent's index drops those of its partitions.
DROP INDEX IF EXISTS "usage_org_created_idx";--> statement-breakpoint
DROP INDEX IF EXISTS "usage_key_created_idx";
