-- usage_events becomes a table partitioned by month on created_at, keyed by (request_id, created_at):
-- old months are dropped whole for retention, and queries by time only touch their months. Monthly
-- partitions are created ahead of time by the server; rows outside them land in the default one.
ALTER TABLE "usage_events" RENAME TO "usage_events_unpartitioned";--> statement-breakpoint
ALTER TABLE "usage_events_unpartitioned" RENAME CONSTRAINT "usage_events_pkey" TO "usage_events_unpartitioned_pkey";--> statement-breakpoint
ALTER INDEX "usage_org_created_idx" RENAME TO "usage_org_created_idx_unpartitioned";--> statement-breakpoint
ALTER INDEX "usage_key_created_idx" RENAME TO "usage_key_created_idx_unpartitioned";--> statement-breakpoint
CREATE TABLE "usage_events" (LIKE "usage_events_unpartitioned" INCLUDING DEFAULTS) PARTITION BY RANGE ("created_at");--> statement-breakpoint
ALTER TABLE "usage_events" ADD CONSTRAINT "usage_events_request_created_pk" PRIMARY KEY ("request_id", "created_at");--> statement-breakpoint
CREATE TABLE "usage_events_default" PARTITION OF "usage_events" DEFAULT;--> statement-breakpoint
INSERT INTO "usage_events" SELECT * FROM "usage_events_unpartitioned";--> statement-breakpoint
DROP TABLE "usage_events_unpartitioned";--> statement-breakpoint
CREATE INDEX "usage_org_created_idx" ON "usage_events" USING btree ("org_id","created_at");--> statement-breakpoint
CREATE INDEX "usage_key_created_idx" ON "usage_events" USING btree ("key_id","created_at");
